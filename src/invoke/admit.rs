//! Admission: whether a call may reach the guest and how long it may run,
//! and the fuel a call (or an instance) may be given.
//!
//! Hot path (admission runs before every call; it allocates only when it
//! refuses one).

use std::time::Duration;

use crate::clock::Clock;
use crate::config::Limits;
use crate::error::{AnswerLimit, EngineError, Fault, FaultKind};
use crate::host::MAX_BUFFER_BYTES;
use crate::types::{Function, Roles, StreamElement};

/// Decides whether a call may reach the guest, and how long it may run:
/// the earlier of `call_deadline` and the element's flow deadline. Refuses
/// calls on a poisoned instance, calls to a role the component lacks, a
/// payload over the 16 MiB cap and a deadline already past.
#[inline]
pub(crate) fn admit(
    poisoned: Option<&Fault>,
    roles: Roles,
    function: Function,
    element: Option<&StreamElement>,
    clock: &Clock,
    call_deadline: Option<Duration>,
) -> Result<Option<Duration>, FaultKind> {
    if let Some(first) = poisoned {
        return Err(FaultKind::Poisoned {
            cause: first.poison_cause(),
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
        if el.payload.len() as u64 > MAX_BUFFER_BYTES {
            return Err(FaultKind::Rejected {
                reason: format!(
                    "the payload is {} bytes, over the {MAX_BUFFER_BYTES}-byte buffer cap; split it",
                    el.payload.len()
                ),
            });
        }
        if let Some(deadline) = el.context.deadline_ns() {
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
            "fuel metering is off in this engine (`limits.fuel_enabled: false`); enable it to \
             set a fuel budget"
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

/// An answer over a bound: the bound, its value, what the answer held
/// (small and `Copy`, so the result types of the hot path stay small; it
/// becomes a [`FaultKind::AnswerTooLarge`] when the call is classified).
pub(crate) type OverBound = (AnswerLimit, u64, u64);

/// Checks a `route` answer against the limits on port names: their count
/// (`max_route_ports`), then their bytes in all (`max_route_bytes`).
/// `lens` gives each name's length; it is read only up to the bound, so a
/// flood is refused without walking it.
pub(crate) fn check_route(
    count: usize,
    lens: impl IntoIterator<Item = usize>,
    limits: &Limits,
) -> Result<(), OverBound> {
    if count > limits.max_route_ports as usize {
        return Err((
            AnswerLimit::RoutePorts,
            limits.max_route_ports.into(),
            count as u64,
        ));
    }
    let bytes: u64 = lens.into_iter().map(|l| l as u64).sum();
    if bytes > limits.max_route_bytes {
        return Err((AnswerLimit::RouteBytes, limits.max_route_bytes, bytes));
    }
    Ok(())
}

/// Checks a `flush` answer: its length against `max_flush_outputs`, then
/// the bytes of its elements' content types (`content_type_lens`, read only
/// after the length passed) against `max_memory_bytes`.
pub(crate) fn check_flush(
    count: usize,
    content_type_lens: impl IntoIterator<Item = usize>,
    limits: &Limits,
) -> Result<(), OverBound> {
    if count > limits.max_flush_outputs as usize {
        return Err((
            AnswerLimit::FlushOutputs,
            limits.max_flush_outputs.into(),
            count as u64,
        ));
    }
    let bytes: u64 = content_type_lens.into_iter().map(|l| l as u64).sum();
    if bytes > limits.max_memory_bytes {
        return Err((AnswerLimit::FlushBytes, limits.max_memory_bytes, bytes));
    }
    Ok(())
}
