//! [`MockInvoker`]: the hot path of the mock backend, with the Wasmtime
//! backend's semantics.
//!
//! Hot path. Every call goes through the engine's call frame
//! (`crate::invoke::call`: admit, begin, body, finish, classify), the same
//! code the Wasmtime invoker runs; this file holds what is the mock's in it
//! ([`MockCall`]): the modelled fuel against the call's budget (on a
//! virtual clock, the deadline turned into fuel), simulated memory growth,
//! the model run against the instance's [`HostResources`], a model's
//! [`MockError`] turned into a failure to classify, and the journal entry
//! written after the call.

use std::sync::Arc;

use bytes::Bytes;

use super::engine::MockInner;
use super::faults::ColdOp;
use super::journal::{JournalEntry, PayloadDigest, digest};
use super::model::{MemoryModel, MockComponent, MockCtx, MockError, MockModel, ModelElement};
use crate::call::{Answer, Outcome};
use crate::clock::Clock;
use crate::config::Limits;
use crate::error::{FaultKind, TrapCode};
use crate::host::HostResources;
use crate::invoke::{self, CallBackend, CallFrame, CallState, Failure};
use crate::random::{RandomSource, SplitMix64};
use crate::types::{
    BackpressureSignal, ComponentId, ElementMeta, Function, Grants, Invocation, OutputElement,
    ProcessResult, Role, StreamElement,
};
use crate::world::{WorldInfo, WorldTap};

/// A live mock instance. Offers every call through [`ComponentInvoker`](crate::ComponentInvoker)
/// and as `*_sync` methods, like the Wasmtime invoker.
pub struct MockInvoker {
    state: CallState,
    inst: MockCall,
}

/// The call's input payload as journaled: where its bytes start, how many
/// there are, and their digest. An output made during the call (while the
/// input was lent, so alive) that starts at the same address with the same
/// length is the same bytes (a passthrough's), whose digest is reused
/// instead of hashing them again; nothing is cloned to know it.
#[derive(Clone, Copy)]
struct InputPayload {
    addr: usize,
    len: usize,
    digest: u64,
}

impl InputPayload {
    fn of(bytes: &Bytes) -> Self {
        Self {
            addr: bytes.as_ptr() as usize,
            len: bytes.len(),
            digest: digest(bytes),
        }
    }

    /// Whether `bytes` are the input's own bytes.
    fn is(&self, bytes: &Bytes) -> bool {
        bytes.as_ptr() as usize == self.addr && bytes.len() == self.len
    }
}

/// How the journal keeps an output's payload: its length and digest, the
/// input's digest reused when the output is the input's own bytes.
fn payload_digest(out: &OutputElement, input: Option<InputPayload>) -> PayloadDigest {
    PayloadDigest {
        len: out.payload.len(),
        digest: match input.filter(|i| i.is(&out.payload)) {
            Some(i) => i.digest,
            None => digest(&out.payload),
        },
    }
}

/// The seed of an instance's random stream: [`RandomSource::seed_for`]
/// its id, or with system randomness one drawn from the standard library's
/// randomly keyed hasher.
fn instance_seed(random: &RandomSource, id: &ComponentId) -> u64 {
    random.seed_for(id.as_str()).unwrap_or_else(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write(id.as_str().as_bytes());
        h.finish()
    })
}

impl MockInvoker {
    pub(crate) fn new(
        engine: Arc<MockInner>,
        component: &MockComponent,
        id: ComponentId,
        grants: Grants,
    ) -> Self {
        let limits = engine.config.limits;
        let state = CallState::new(id, component.roles, &limits);
        let inst = MockCall {
            res: HostResources::new(limits.resource_limits(), engine.clock.clone())
                .with_grants(grants),
            rng: SplitMix64::new(instance_seed(&engine.config.random, &state.id)),
            world: WorldTap::default(),
            memory_bytes: component.memory.initial,
            memory_model: component.memory,
            model: (component.factory)(),
            ended_ns: None,
            input: None,
            memory_denied: None,
            fuel_used: 0,
            engine,
        };
        Self { state, inst }
    }

    pub(crate) fn set_fuel_budget(&mut self, fuel: u64) {
        self.state.set_fuel_budget(fuel);
    }

    pub(crate) fn fuel_remaining(&self) -> Option<u64> {
        self.state.fuel_remaining
    }

    fn host(&self) -> &HostResources {
        &self.inst.res
    }

    fn host_mut(&mut self) -> &mut HostResources {
        &mut self.inst.res
    }

    fn world_tap(&self) -> &WorldTap {
        &self.inst.world
    }

    /// The clock's kind and the run's seed (a mock has no insecure seed).
    fn world_source(&self) -> WorldInfo {
        let engine = &self.inst.engine;
        WorldInfo {
            clock: Some(crate::world::clock_name(&engine.clock).into()),
            seed: match engine.config.random {
                RandomSource::Seeded(seed) => Some(seed),
                RandomSource::System => None,
            },
            insecure_seed: None,
        }
    }

    /// The simulated linear memory, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.inst.memory_bytes
    }

    /// `processor.process`, synchronously.
    pub fn process_sync(&mut self, element: StreamElement) -> Invocation<ProcessResult> {
        self.call(Function::Process, Some(element), |m, ctx, el| {
            m.process(ctx, el.expect("process has an input"))
        })
    }

    /// `source.pull`, synchronously.
    pub fn pull_sync(&mut self) -> Invocation<Option<OutputElement>> {
        self.call(Function::Pull, None, |m, ctx, _| m.pull(ctx))
    }

    /// `sink.push`, synchronously.
    pub fn push_sync(&mut self, element: StreamElement) -> Invocation<BackpressureSignal> {
        self.call(Function::Push, Some(element), |m, ctx, el| {
            m.push(ctx, el.expect("push has an input"))
        })
    }

    /// `source.notify-backpressure`, synchronously.
    pub fn notify_backpressure_sync(&mut self, signal: BackpressureSignal) -> Invocation<()> {
        self.call(Function::NotifyBackpressure, None, |m, ctx, _| {
            m.notify_backpressure(ctx, signal)
        })
    }

    /// `sink.complete`, synchronously.
    pub fn complete_sync(&mut self) -> Invocation<()> {
        self.call(Function::Complete, None, |m, ctx, _| m.complete(ctx))
    }

    /// `filter.evaluate`, synchronously.
    pub fn evaluate_sync(&mut self, element: StreamElement) -> Invocation<bool> {
        self.call(Function::Evaluate, Some(element), |m, ctx, el| {
            m.evaluate(ctx, el.expect("evaluate has an input"))
        })
    }

    /// `router.route`, synchronously; the answer is bounded as on the
    /// real backend.
    pub fn route_sync(&mut self, element: StreamElement) -> Invocation<Vec<String>> {
        let limits = self.inst.engine.config.limits;
        self.call(Function::Route, Some(element), |m, ctx, el| {
            let ports = m.route(ctx, el.expect("route has an input"))?;
            invoke::check_route(ports.len(), ports.iter().map(String::len), &limits)
                .map_err(over_bound)?;
            Ok(ports)
        })
    }

    /// `aggregator.ingest`, synchronously.
    pub fn ingest_sync(&mut self, element: StreamElement) -> Invocation<Option<OutputElement>> {
        self.call(Function::Ingest, Some(element), |m, ctx, el| {
            m.ingest(ctx, el.expect("ingest has an input"))
        })
    }

    /// `aggregator.flush`, synchronously: the answer's length is checked
    /// before any of its buffers moves to the host, as on the real backend.
    pub fn flush_sync(&mut self) -> Invocation<Vec<OutputElement>> {
        let limits = self.inst.engine.config.limits;
        self.call(Function::Flush, None, |m, ctx, _| {
            let pending = m.flush(ctx)?;
            let lens = pending.iter().map(|p| p.meta.content_type.len());
            invoke::check_flush(pending.len(), lens, &limits).map_err(over_bound)?;
            pending
                .into_iter()
                .map(|p| ctx.output(p.meta, p.buf))
                .collect()
        })
    }

    /// `lifecycle.init`, synchronously (same rules as the real backend).
    pub fn init_sync(&mut self, config: &str) -> Invocation<()> {
        if self.state.skips(Function::Init, config) {
            return self.noop(Function::Init);
        }
        let inject = self.state.roles.contains(Role::Lifecycle)
            && self.state.poisoned.is_none()
            && self.inst.engine.faults.should_fail(ColdOp::Init);
        self.call(Function::Init, None, |m, ctx, _| {
            if inject {
                return Err(MockError::Trap(TrapCode::Unreachable));
            }
            m.init(ctx, config)
        })
    }

    /// `lifecycle.teardown`, synchronously and best effort.
    pub fn teardown_sync(&mut self) -> Invocation<()> {
        if self.state.skips(Function::Teardown, "") {
            return self.noop(Function::Teardown);
        }
        self.call(Function::Teardown, None, |m, ctx, _| m.teardown(ctx))
    }

    /// A lifecycle call with nothing to do (no lifecycle role), journaled
    /// like every call.
    fn noop(&mut self, function: Function) -> Invocation<()> {
        self.host_mut().skip_call();
        let noop = invoke::noop();
        journal(
            &self.inst.engine,
            &self.state.id,
            function,
            None,
            &noop,
            None,
        );
        noop
    }

    /// Runs one call through the engine's call frame with the model call
    /// `body`, and journals it.
    fn call<T: Clone + Into<Answer>>(
        &mut self,
        function: Function,
        element: Option<StreamElement>,
        body: impl FnOnce(
            &mut dyn MockModel,
            &mut MockCtx<'_>,
            Option<&ModelElement>,
        ) -> Result<T, MockError>,
    ) -> Invocation<T> {
        // The input as journaled: its meta and its payload's place, length
        // and digest.
        let journal_input = element.as_ref().and_then(|el| {
            self.inst
                .engine
                .journal
                .is_on()
                .then(|| (el.meta.clone(), InputPayload::of(&el.payload)))
        });
        let payload_len = element.as_ref().map_or(0, |el| el.payload.len());
        self.inst.ended_ns = None;
        invoke::call(
            &mut self.inst,
            &mut self.state,
            function,
            element,
            |inst, frame, input| inst.run(frame, payload_len, input, body),
            |inst, state, invocation| {
                journal(
                    &inst.engine,
                    &state.id,
                    function,
                    journal_input,
                    invocation,
                    inst.ended_ns,
                );
            },
        )
    }
}

/// Journals a finished call: `input` is its input's meta and payload as
/// journaled, `ended_ns` the clock reading that ended it (`None`: it never
/// reached the model).
fn journal<T: Clone + Into<Answer>>(
    engine: &MockInner,
    component: &ComponentId,
    function: Function,
    input: Option<(ElementMeta, InputPayload)>,
    invocation: &Invocation<T>,
    ended_ns: Option<u64>,
) {
    engine.journal.record(|index| {
        let payload = input.as_ref().map(|(_, payload)| *payload);
        let (outcome, output) = match &invocation.outcome {
            Ok(v) => {
                let answer: Answer = v.clone().into();
                let output = answer
                    .emitted()
                    .filter(|_| engine.journal.keeps_outputs())
                    .map(|out| out.payload.clone());
                let digests = answer.map_outputs(|out| payload_digest(&out, payload));
                (Outcome::Answer(digests), output)
            }
            Err(e) => (Outcome::error(e), None),
        };
        let (meta, payload) =
            input.map_or((None, None), |(m, p)| (Some(m), Some((p.len, p.digest))));
        JournalEntry {
            index,
            component: component.clone(),
            function,
            meta,
            payload,
            outcome,
            output,
            fuel: invocation.metrics.fuel_consumed,
            time_ns: ended_ns.unwrap_or_else(|| engine.clock.now_ns()),
        }
    });
}

/// What is the mock's in a call: the instance's model, memory and host
/// resources, which the call frame drives, and what one call records. The
/// invoker owns it beside its `CallState`, so nothing is built per call.
struct MockCall {
    engine: Arc<MockInner>,
    model: Box<dyn MockModel>,
    memory_model: MemoryModel,
    res: HostResources,
    memory_bytes: u64,
    /// The instance's random stream ([`MockCtx::random_u64`]).
    rng: SplitMix64,
    /// The tap its clock and random reads go through (`crate::world`).
    world: WorldTap,
    /// The clock reading that ended the last admitted call, taken for its
    /// duration and reused for its journal entry (`None`: refused). A field
    /// rather than a second value returned with the `Invocation`: returning
    /// the pair cost 77 more instructions per call (callgrind on
    /// `compare/published-mock/examples/mock_loop.rs`).
    ended_ns: Option<u64>,
    /// The reps of this call's lent payload and flow context.
    input: Option<(u32, u32)>,
    /// A memory growth refused in this call: `(limit, requested)`.
    memory_denied: Option<(u64, u64)>,
    /// The modelled fuel this call consumed.
    fuel_used: u64,
}

impl MockCall {
    /// The body: the modelled fuel against the call's budget (running out
    /// burns all of it, as a guest's would), the memory the model grows by
    /// per call, then the model.
    fn run<T>(
        &mut self,
        frame: &CallFrame,
        payload_len: usize,
        input: Option<&ModelElement>,
        body: impl FnOnce(
            &mut dyn MockModel,
            &mut MockCtx<'_>,
            Option<&ModelElement>,
        ) -> Result<T, MockError>,
    ) -> Result<T, MockError> {
        let config = &self.engine.config;
        if config.limits.fuel_enabled {
            let cost = config.cost.fuel(frame.function, payload_len);
            if cost > frame.fuel {
                self.fuel_used = frame.fuel;
                return Err(MockError::FuelExhausted);
            }
            self.fuel_used = cost;
        }
        let mut ctx = MockCtx {
            res: &mut self.res,
            fuel_left: frame.fuel.saturating_sub(self.fuel_used),
            input: self.input,
            memory_bytes: &mut self.memory_bytes,
            memory_limit: config.limits.max_memory_bytes,
            memory_denied: &mut self.memory_denied,
            rng: &mut self.rng,
            world: &self.world,
            clock: &self.engine.clock,
        };
        let growth = self.memory_model.growth_per_call;
        let result = if growth > 0 && !ctx.grow_memory(growth) {
            Err(MockError::Trap(TrapCode::Unreachable))
        } else {
            body(&mut *self.model, &mut ctx, input)
        };
        if let Err(e) = &result {
            self.burn(e, frame);
        }
        result
    }

    /// The fuel a failed model call burned, as a guest's would: running
    /// out of fuel burns the call's whole fuel; running past the deadline,
    /// when the deadline is what bounds the call's fuel (a virtual clock),
    /// burns it too, so the clock reaches the deadline.
    #[cold]
    #[inline(never)]
    fn burn(&mut self, e: &MockError, frame: &CallFrame) {
        match e {
            MockError::FuelExhausted => self.fuel_used = frame.fuel,
            // A deadline that fired at a host call stopped the model there,
            // after the fuel it had burned.
            MockError::DeadlineExceeded
                if frame.deadline_in_fuel && !self.res.timer().is_some_and(|t| t.fired) =>
            {
                self.fuel_used = frame.fuel
            }
            _ => {}
        }
    }
}

impl CallBackend for MockCall {
    const RUNS_ON_AFTER_TRAP: bool = true;

    type Input = ModelElement;
    type Error = MockError;

    fn clock(&self) -> &Clock {
        &self.engine.clock
    }

    fn limits(&self) -> &Limits {
        &self.engine.config.limits
    }

    fn arm(&mut self, _frame: &CallFrame) -> Result<(), FaultKind> {
        Ok(())
    }

    fn resources(&mut self) -> &mut HostResources {
        &mut self.res
    }

    fn begin(&mut self) {
        self.input = None;
        self.memory_denied = None;
        self.fuel_used = 0;
    }

    fn input(&mut self, meta: ElementMeta, payload: u32, context: u32) -> ModelElement {
        self.input = Some((payload, context));
        ModelElement { meta }
    }

    fn fuel_consumed(&mut self, _frame: &CallFrame) -> u64 {
        self.fuel_used
    }

    fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    fn memory_denied(&self) -> Option<(u64, u64)> {
        self.memory_denied
    }

    fn ended(&mut self, now_ns: u64) {
        self.ended_ns = Some(now_ns);
    }

    /// What the real engine would have seen of a model's error: a memory
    /// fault is a refused growth then a trap; a buffer error the model gave
    /// up on is a trap (reported as the buffer budget when that refused
    /// it).
    fn failure(&mut self, e: MockError) -> Failure {
        match e {
            MockError::Guest(e) => Failure::Guest(e),
            MockError::Contract(v) => Failure::Contract(v),
            MockError::Answer {
                limit,
                allowed,
                got,
            } => Failure::Answer((limit, allowed, got)),
            MockError::FuelExhausted => Failure::OutOfFuel,
            MockError::DeadlineExceeded => Failure::Interrupted,
            MockError::MemoryLimitExceeded { requested } => {
                let limit = self.engine.config.limits.max_memory_bytes;
                self.memory_denied.get_or_insert((limit, requested));
                Failure::Trap {
                    code: TrapCode::Unreachable,
                    detail: "mock component trapped after its memory growth was refused".into(),
                }
            }
            MockError::Trap(code) => Failure::Trap {
                code,
                detail: format!("mock component trapped ({code})"),
            },
            MockError::Buffer(b) => Failure::Trap {
                code: TrapCode::Unreachable,
                detail: format!("mock component gave up after a buffer error ({b:?})"),
            },
        }
    }
}

/// The model error of an answer over a bound.
#[cold]
fn over_bound((limit, allowed, got): invoke::OverBound) -> MockError {
    MockError::Answer {
        limit,
        allowed,
        got,
    }
}

invoke::async_invoker_from_sync!(MockInvoker);
