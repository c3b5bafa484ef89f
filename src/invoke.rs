//! What every backend does around a call, so that the Wasmtime and mock
//! invokers cannot drift apart: admission checks, the deadline as a fuel
//! budget on a virtual clock, fuel validation, and the async face of the
//! synchronous calls.
//!
//! Hot path (admission runs before every call; it allocates only when it
//! refuses one).

use std::time::Duration;

use crate::clock::Clock;
use crate::config::MAX_PAYLOAD_BYTES;
use crate::error::{EngineError, Fault, FaultKind, InvokeError};
use crate::types::{ComponentId, Function, Invocation, InvocationMetrics, Roles, StreamElement};

/// Decides whether a call may reach the guest, and how long it may run:
/// the earlier of `call_deadline` and the element's flow deadline. Refuses
/// calls on a poisoned instance, calls to a role the component lacks, a
/// payload over the 16 MiB cap and a deadline already past.
pub(crate) fn admit(
    poisoned: Option<&Fault>,
    roles: Roles,
    function: Function,
    element: Option<&StreamElement>,
    clock: &Clock,
    call_deadline: Option<Duration>,
) -> Result<Option<Duration>, FaultKind> {
    if let Some(cause) = poisoned {
        return Err(FaultKind::Poisoned {
            cause: cause.kind.to_string(),
        });
    }
    let role = function
        .role()
        .expect("hot-path functions belong to a role");
    if !roles.contains(role) {
        return Err(FaultKind::MissingExport { role });
    }
    let mut allowed = call_deadline;
    if let Some(el) = element {
        if el.payload.len() as u64 > MAX_PAYLOAD_BYTES {
            return Err(FaultKind::Rejected {
                reason: format!(
                    "the payload is {} bytes, over the {MAX_PAYLOAD_BYTES}-byte buffer cap; split it",
                    el.payload.len()
                ),
            });
        }
        if let Some(deadline) = el.context.deadline_ns {
            let now = clock.now_ns();
            if deadline <= now {
                return Err(FaultKind::Rejected {
                    reason: format!(
                        "the flow's deadline passed {}ns before the call",
                        now - deadline
                    ),
                });
            }
            let left = Duration::from_nanos(deadline - now);
            allowed = Some(allowed.map_or(left, |a| a.min(left)));
        }
    }
    Ok(allowed)
}

/// The fuel a call may burn: its budget, or on a virtual clock the time it
/// is allowed turned into fuel when that is less. The flag says whether
/// the deadline is what bounds it (running out is then a deadline fault).
pub(crate) fn fuel_budget(clock: &Clock, allowed: Option<Duration>, budget: u64) -> (u64, bool) {
    match allowed.and_then(|a| clock.fuel_for(a)) {
        Some(fuel) if fuel < budget => (fuel, true),
        _ => (budget, false),
    }
}

/// Checks a per-instance fuel budget for [`crate::WasmEngine::set_fuel`].
pub(crate) fn check_fuel(fuel_enabled: bool, fuel: u64) -> Result<(), EngineError> {
    if !fuel_enabled {
        return Err(EngineError::Unsupported(
            "fuel metering is off in this engine (`fuel_enabled: false`); enable it to set a \
             fuel budget"
                .into(),
        ));
    }
    if fuel == 0 || fuel > i64::MAX as u64 {
        return Err(EngineError::InvalidArgument {
            name: "fuel",
            problem: format!(
                "{fuel} is outside 1..={}: a zero budget fails every call at once",
                i64::MAX
            ),
        });
    }
    Ok(())
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

/// The fault of a call that failed inside the guest, recorded as the
/// instance's poison when the fault poisons (both backends' rule, in one
/// place). Out of line: the hot path stays compact.
#[cold]
#[inline(never)]
pub(crate) fn fault(
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
    if fault.poisons() {
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

/// Implements [`crate::ComponentInvoker`] for an invoker type whose calls
/// are its synchronous `*_sync` methods (a guest call is CPU-bound and
/// bounded by fuel and deadline, so it runs on the caller's task), and
/// which has `id`, `roles`, `poisoned` fields and a `live()` method.
macro_rules! async_invoker_from_sync {
    ($ty:ty) => {
        impl $crate::ComponentInvoker for $ty {
            fn component_id(&self) -> &$crate::ComponentId {
                &self.id
            }

            fn roles(&self) -> $crate::Roles {
                self.roles
            }

            fn live_resources(&self) -> usize {
                self.live()
            }

            fn poisoned(&self) -> Option<&$crate::Fault> {
                self.poisoned.as_ref()
            }

            async fn init(&mut self, config: &str) -> $crate::Invocation<()> {
                self.init_sync(config)
            }

            async fn process(
                &mut self,
                element: $crate::StreamElement,
            ) -> $crate::Invocation<$crate::ProcessResult> {
                self.process_sync(element)
            }

            async fn pull(&mut self) -> $crate::Invocation<Option<$crate::OutputElement>> {
                self.pull_sync()
            }

            async fn push(
                &mut self,
                element: $crate::StreamElement,
            ) -> $crate::Invocation<$crate::BackpressureSignal> {
                self.push_sync(element)
            }

            async fn notify_backpressure(
                &mut self,
                signal: $crate::BackpressureSignal,
            ) -> $crate::Invocation<()> {
                self.notify_backpressure_sync(signal)
            }

            async fn complete(&mut self) -> $crate::Invocation<()> {
                self.complete_sync()
            }

            async fn teardown(&mut self) -> $crate::Invocation<()> {
                self.teardown_sync()
            }
        }
    };
}

pub(crate) use async_invoker_from_sync;
