//! What a call returns: its outcome and what it cost.

use std::time::Duration;

use super::ProcessError;

/// What one call cost, reported for every call, whether it succeeded,
/// returned a `process-error` or faulted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InvocationMetrics {
    /// Fuel the guest consumed (0 when fuel metering is off).
    pub fuel_consumed: u64,
    /// How long the call took on the engine clock.
    pub duration: Duration,
    /// Bytes copied from host buffers into guest memory (`read`, `read-all`).
    pub bytes_into_guest: u64,
    /// Bytes copied from guest memory into host buffers (`write`, `append`).
    pub bytes_out_of_guest: u64,
    /// Host buffers the guest allocated (`allocate`, `clone-into-mutable`).
    pub buffers_allocated: u32,
    /// Calls the guest made into the contract's host functions.
    pub host_calls: u32,
    /// Host resources the guest still held when the call ended, reclaimed by
    /// the engine (a well-behaved guest leaves 0).
    pub resources_reclaimed: u32,
    /// The guest's linear memory size after the call, in bytes.
    pub memory_bytes: u64,
}

/// The outcome of one call: the value, a guest error or an engine fault, and
/// what the call cost in every case.
#[derive(Debug)]
#[must_use = "an invocation may have failed; look at its outcome"]
pub struct Invocation<T> {
    /// The value, or why there is none.
    pub outcome: Result<T, crate::InvokeError>,
    /// What the call cost.
    pub metrics: InvocationMetrics,
}

impl<T> Invocation<T> {
    /// The same call with its value mapped by `f` (errors and metrics
    /// unchanged).
    #[inline]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Invocation<U> {
        Invocation {
            outcome: self.outcome.map(f),
            metrics: self.metrics,
        }
    }

    /// The outcome, dropping the metrics.
    pub fn into_result(self) -> Result<T, crate::InvokeError> {
        self.outcome
    }

    /// The engine fault, if the call faulted.
    pub fn fault(&self) -> Option<&crate::Fault> {
        match &self.outcome {
            Err(crate::InvokeError::Fault(f)) => Some(f),
            _ => None,
        }
    }

    /// The guest's `process-error`, if it returned one.
    pub fn guest_error(&self) -> Option<&ProcessError> {
        match &self.outcome {
            Err(crate::InvokeError::Guest(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether the call returned a value.
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// What a guest wrote to stdout or stderr, kept up to a cap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestOutput {
    /// The bytes kept.
    pub bytes: Vec<u8>,
    /// Bytes written past the cap, counted and discarded.
    pub discarded: u64,
}
