//! [`MockInvoker`]: the hot path of the mock backend, with the Wasmtime
//! backend's semantics.
//!
//! Hot path. Each call: the same checks as the real backend (poisoned,
//! missing role, payload cap, deadline already past), the modelled fuel
//! against the budget (and, on a virtual clock, against the deadline turned
//! into fuel), simulated memory growth, the model run against the instance's
//! [`HostResources`] (inputs lent, outputs moved, leftovers reclaimed), the
//! virtual clock charged, the journal written.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::engine::MockInner;
use super::faults::ColdOp;
use super::journal::{JournalEntry, JournalOutcome, digest};
use super::model::{MemoryModel, MockComponent, MockCtx, MockError, MockModel, ModelElement};
use crate::error::{Fault, FaultKind, InvokeError, TrapCode};
use crate::host::HostResources;
use crate::types::{
    BackpressureSignal, ComponentId, Function, Invocation, InvocationMetrics, OutputElement,
    ProcessResult, Role, Roles, StreamElement,
};
use crate::{invoke, trace};

/// A live mock instance. Offers every call through [`ComponentInvoker`](crate::ComponentInvoker)
/// and as `*_sync` methods, like the Wasmtime invoker.
pub struct MockInvoker {
    engine: Arc<MockInner>,
    id: ComponentId,
    roles: Roles,
    model: Box<dyn MockModel>,
    memory_model: MemoryModel,
    res: HostResources,
    memory_bytes: u64,
    fuel_budget: u64,
    fuel_remaining: Option<u64>,
    poisoned: Option<Fault>,
    /// The clock reading that ended the last admitted call, taken for its
    /// duration and reused for its journal entry (`None`: refused). A field
    /// rather than a second value returned with the `Invocation`: returning
    /// the pair cost 77 more instructions per call (callgrind on
    /// `compare/published-mock/examples/mock_loop.rs`).
    ended_ns: Option<u64>,
}

/// How a call's value is journaled. `input` is the call's input payload
/// and its digest, if it had one: an output that is the very same bytes (a
/// passthrough) reuses the digest instead of hashing them again.
trait Journaled {
    fn outcome(&self, input: Option<(&Bytes, u64)>) -> JournalOutcome;
}

impl Journaled for () {
    fn outcome(&self, _input: Option<(&Bytes, u64)>) -> JournalOutcome {
        JournalOutcome::Ok
    }
}

impl Journaled for ProcessResult {
    fn outcome(&self, input: Option<(&Bytes, u64)>) -> JournalOutcome {
        match self {
            ProcessResult::Emit(out) => out.outcome(input),
            ProcessResult::Drop => JournalOutcome::Drop,
        }
    }
}

impl Journaled for OutputElement {
    fn outcome(&self, input: Option<(&Bytes, u64)>) -> JournalOutcome {
        let same = |(bytes, _): &(&Bytes, u64)| {
            bytes.as_ptr() == self.payload.as_ptr() && bytes.len() == self.payload.len()
        };
        JournalOutcome::Element {
            len: self.payload.len(),
            digest: match input.filter(same) {
                Some((_, d)) => d,
                None => digest(&self.payload),
            },
        }
    }
}

impl Journaled for Option<OutputElement> {
    fn outcome(&self, input: Option<(&Bytes, u64)>) -> JournalOutcome {
        self.as_ref()
            .map_or(JournalOutcome::Exhausted, |out| out.outcome(input))
    }
}

impl Journaled for BackpressureSignal {
    fn outcome(&self, _input: Option<(&Bytes, u64)>) -> JournalOutcome {
        JournalOutcome::Signal(*self)
    }
}

impl MockInvoker {
    pub(crate) fn new(engine: Arc<MockInner>, component: &MockComponent, id: ComponentId) -> Self {
        let fuel_budget = engine.config.fuel_per_call;
        Self {
            res: HostResources::new(engine.resource_limits(), engine.clock.clone()),
            fuel_remaining: engine.config.fuel_enabled.then_some(fuel_budget),
            fuel_budget,
            memory_bytes: component.memory.initial,
            memory_model: component.memory,
            model: (component.factory)(),
            roles: component.roles,
            poisoned: None,
            ended_ns: None,
            engine,
            id,
        }
    }

    pub(crate) fn set_fuel_budget(&mut self, fuel: u64) {
        self.fuel_budget = fuel;
        if self.poisoned.is_none() {
            self.fuel_remaining = Some(fuel);
        }
    }

    pub(crate) fn fuel_remaining(&self) -> Option<u64> {
        self.fuel_remaining
    }

    fn live(&self) -> usize {
        self.res.live()
    }

    /// The simulated linear memory, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
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

    /// `lifecycle.init`, synchronously (same rules as the real backend).
    pub fn init_sync(&mut self, config: &str) -> Invocation<()> {
        if !self.roles.contains(Role::Lifecycle) && config.is_empty() {
            return invoke::noop();
        }
        let inject = self.roles.contains(Role::Lifecycle)
            && self.poisoned.is_none()
            && self.engine.faults.should_fail(ColdOp::Init);
        self.call(Function::Init, None, |m, ctx, _| {
            if inject {
                return Err(MockError::Trap(TrapCode::Unreachable));
            }
            m.init(ctx, config)
        })
    }

    /// `lifecycle.teardown`, synchronously and best effort.
    pub fn teardown_sync(&mut self) -> Invocation<()> {
        if !self.roles.contains(Role::Lifecycle) {
            return invoke::noop();
        }
        self.call(Function::Teardown, None, |m, ctx, _| m.teardown(ctx))
    }

    fn call<T: Journaled>(
        &mut self,
        function: Function,
        element: Option<StreamElement>,
        body: impl FnOnce(
            &mut dyn MockModel,
            &mut MockCtx<'_>,
            Option<&ModelElement>,
        ) -> Result<T, MockError>,
    ) -> Invocation<T> {
        // The input as journaled: its meta, its payload (a cheap `Bytes`
        // clone, to recognise an output that is the same bytes) and digest.
        let journal_input = element.as_ref().and_then(|el| {
            self.engine
                .journal
                .is_on()
                .then(|| (el.meta.clone(), el.payload.clone(), digest(&el.payload)))
        });
        let span = trace::call(&self.id, function);
        self.ended_ns = None;
        let invocation = self.run(function, element, body);
        let fault = invocation.fault().map(|f| f as &dyn std::fmt::Display);
        span.finish(
            &invocation.metrics,
            trace::outcome_name(&invocation.outcome),
            fault,
        );
        let engine = &self.engine;
        engine.journal.record(|index| {
            let input = journal_input.as_ref().map(|(_, bytes, d)| (bytes, *d));
            let outcome = match &invocation.outcome {
                Ok(v) => v.outcome(input),
                Err(InvokeError::Guest(e)) => JournalOutcome::GuestError(e.kind()),
                Err(InvokeError::Fault(f)) => JournalOutcome::Fault(f.kind.name()),
            };
            let (meta, payload) = journal_input.map_or((None, None), |(m, bytes, d)| {
                (Some(m), Some((bytes.len(), d)))
            });
            JournalEntry {
                index,
                component: self.id.clone(),
                function,
                meta,
                payload,
                outcome,
                fuel: invocation.metrics.fuel_consumed,
                time_ns: self.ended_ns.unwrap_or_else(|| engine.clock.now_ns()),
            }
        });
        invocation
    }

    fn run<T>(
        &mut self,
        function: Function,
        element: Option<StreamElement>,
        body: impl FnOnce(
            &mut dyn MockModel,
            &mut MockCtx<'_>,
            Option<&ModelElement>,
        ) -> Result<T, MockError>,
    ) -> Invocation<T> {
        // Disjoint borrows of the fields (no `Arc` clone of the engine per
        // call: two atomic operations on the hot path).
        let Self {
            engine,
            id,
            roles,
            model,
            memory_model,
            res,
            memory_bytes,
            fuel_budget,
            fuel_remaining,
            poisoned,
            ended_ns,
        } = self;
        let engine: &MockInner = engine;
        let (config, clock) = (&engine.config, &engine.clock);
        let fuel_budget = *fuel_budget;
        let mut finish = Finish {
            engine,
            fuel_remaining,
            fuel_budget,
            start: 0,
            ended_ns,
        };
        let admitted = invoke::admit(
            poisoned.as_ref(),
            *roles,
            function,
            element.as_ref(),
            clock,
            config.call_deadline,
        );
        let allowed = match admitted {
            Ok(allowed) => allowed,
            Err(kind) => return invoke::refused(id, function, kind),
        };
        let payload_len = element.as_ref().map_or(0, |el| el.payload.len());
        finish.start = clock.now_ns();

        // The modelled cost against the budget, the deadline (as fuel on a
        // virtual clock) and the memory limit.
        let (budget, deadline_in_fuel) = invoke::fuel_budget(clock, allowed, fuel_budget);
        let cost = if config.fuel_enabled {
            config.cost.fuel(function, payload_len)
        } else {
            0
        };
        let early = if config.fuel_enabled && cost > budget {
            Some(if deadline_in_fuel {
                FaultKind::DeadlineExceeded {
                    allowed: allowed.unwrap_or_default(),
                }
            } else {
                FaultKind::FuelExhausted {
                    budget: fuel_budget,
                }
            })
        } else {
            let grown = memory_bytes.saturating_add(memory_model.growth_per_call);
            (grown > config.max_memory_bytes).then_some(FaultKind::MemoryLimitExceeded {
                limit: config.max_memory_bytes,
                requested: grown,
            })
        };
        if let Some(kind) = early {
            let consumed = if matches!(kind, FaultKind::MemoryLimitExceeded { .. }) {
                cost
            } else {
                budget
            };
            let metrics = finish.metrics(res, *memory_bytes, consumed, &[]);
            return poison(poisoned, id, function, kind, metrics);
        }
        *memory_bytes += memory_model.growth_per_call;

        res.begin_call();
        let mut lent = [0u32; 2];
        let mut n_lent = 0;
        let mut model_input = None;
        if let Some(StreamElement {
            meta,
            payload,
            context,
        }) = element
        {
            let reps = res
                .lend_buffer(payload, meta.content_type.clone())
                .and_then(|p| Ok((p, res.lend_flow(context)?)));
            match reps {
                Ok((p, c)) => {
                    lent = [p, c];
                    n_lent = 2;
                    model_input = Some(ModelElement { meta });
                }
                Err(v) => {
                    let reason = format!("cannot lend the input to the guest: {v}");
                    res.end_call(&[], &mut InvocationMetrics::default());
                    return invoke::refused(id, function, FaultKind::Rejected { reason });
                }
            }
        }
        let mut memory_denied = None;
        let result = {
            let mut ctx = MockCtx {
                res,
                input: (n_lent == 2).then_some((lent[0], lent[1])),
                memory_bytes,
                memory_limit: config.max_memory_bytes,
                memory_denied: &mut memory_denied,
            };
            body(&mut **model, &mut ctx, model_input.as_ref())
        };
        let metrics = finish.metrics(res, *memory_bytes, cost, &lent[..n_lent]);
        match result {
            Ok(v) => Invocation {
                outcome: Ok(v),
                metrics,
            },
            Err(MockError::Guest(e)) => Invocation {
                outcome: Err(InvokeError::Guest(e)),
                metrics,
            },
            Err(e) => {
                let kind = match e {
                    MockError::Guest(_) => unreachable!("handled above"),
                    MockError::Contract(v) => FaultKind::ContractViolation(v),
                    MockError::FuelExhausted => FaultKind::FuelExhausted {
                        budget: fuel_budget,
                    },
                    MockError::DeadlineExceeded => FaultKind::DeadlineExceeded {
                        allowed: allowed.unwrap_or_default(),
                    },
                    MockError::MemoryLimitExceeded => FaultKind::MemoryLimitExceeded {
                        limit: config.max_memory_bytes,
                        requested: config.max_memory_bytes.saturating_add(1),
                    },
                    MockError::Trap(_) | MockError::Buffer(_) => {
                        match (memory_denied, res.counters.budget_denied) {
                            (Some((limit, requested)), _) => {
                                FaultKind::MemoryLimitExceeded { limit, requested }
                            }
                            (None, Some((limit, requested))) => {
                                FaultKind::BufferBudgetExceeded { limit, requested }
                            }
                            (None, None) => FaultKind::Trap {
                                code: match e {
                                    MockError::Trap(code) => code,
                                    _ => TrapCode::Unreachable,
                                },
                                detail: format!("mock component trapped ({e:?})"),
                            },
                        }
                    }
                };
                poison(poisoned, id, function, kind, metrics)
            }
        }
    }
}

/// What ends every admitted call: the fuel charged, the resources
/// released, the metrics written.
struct Finish<'a> {
    engine: &'a MockInner,
    fuel_remaining: &'a mut Option<u64>,
    fuel_budget: u64,
    start: u64,
    ended_ns: &'a mut Option<u64>,
}

impl Finish<'_> {
    /// Charges `fuel` to the clock, ends the call on the host resources and
    /// returns the call's metrics.
    fn metrics(
        &mut self,
        res: &mut HostResources,
        memory_bytes: u64,
        fuel: u64,
        lent: &[u32],
    ) -> InvocationMetrics {
        let clock = &self.engine.clock;
        let mut metrics = InvocationMetrics::default();
        if self.engine.config.fuel_enabled {
            metrics.fuel_consumed = fuel;
            *self.fuel_remaining = Some(self.fuel_budget.saturating_sub(fuel));
            clock.charge_fuel(fuel);
        }
        res.end_call(lent, &mut metrics);
        let now = clock.now_ns();
        *self.ended_ns = Some(now);
        metrics.duration = Duration::from_nanos(now.saturating_sub(self.start));
        metrics.memory_bytes = memory_bytes;
        metrics
    }
}

#[cold]
#[inline(never)]
fn poison<T>(
    poisoned: &mut Option<Fault>,
    id: &ComponentId,
    function: Function,
    kind: FaultKind,
    metrics: InvocationMetrics,
) -> Invocation<T> {
    Invocation {
        outcome: Err(invoke::fault(poisoned, id, function, kind)),
        metrics,
    }
}

invoke::async_invoker_from_sync!(MockInvoker);
