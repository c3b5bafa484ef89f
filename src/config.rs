//! The limits every backend enforces on a call and an instance, in one
//! type both engines' configurations embed.
//!
//! Cold path. [`Limits`] holds what a host configures the same way for the
//! Wasmtime backend (`WasmtimeEngineConfig::limits`, feature
//! `wasmtime-backend`) and for the mock (`MockEngineConfig::limits`, feature
//! `mock`): fuel, the call deadline, memory, host buffers and resources.
//! [`Limits::validate`] reports every problem at once, with the same field
//! names and texts for both engines, and both engines refuse an invalid
//! configuration when they are built.

use std::time::Duration;

use crate::clock::Clock;
use crate::error::{ConfigProblem, EngineError};
use crate::host::ResourceLimits;

/// The limits both backends put on a call and on an instance; they mean the
/// same on each.
///
/// Defaults: fuel metering on with a budget of 50 million units per call, a
/// 10-second deadline per call, 16 MiB of linear memory, 64 MiB of host
/// buffers and 10 000 host resources per instance; a router may name 64
/// ports in 4 KiB of names per element, and an aggregator's `flush` may
/// return 1 024 elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Meter fuel. On Wasmtime it costs a few percent of execution speed;
    /// without it, only deadlines stop a runaway guest. A virtual clock
    /// needs it: virtual time and its deadlines are measured in fuel.
    pub fuel_enabled: bool,
    /// The fuel each call starts with, unless changed per instance with
    /// [`crate::WasmEngine::set_fuel`]. On Wasmtime, also the budget of
    /// instantiation.
    pub fuel_per_call: u64,
    /// The longest a call may run, on top of the flow context's deadline
    /// (the earlier of the two applies). `None`: only the flow context's.
    pub call_deadline: Option<Duration>,
    /// The most linear memory one instance may hold, in bytes (all its
    /// memories together; the mock's simulated memory).
    pub max_memory_bytes: u64,
    /// Host buffers an instance may hold at once, in bytes (mutable buffers
    /// count their capacity).
    pub max_buffer_bytes_per_instance: u64,
    /// Host resources an instance may hold at once.
    pub max_host_resources: usize,
    /// The most port names one `route` answer may hold; a longer answer is
    /// an [`crate::FaultKind::AnswerTooLarge`] fault.
    pub max_route_ports: u32,
    /// The most bytes the port names of one `route` answer may hold in all.
    pub max_route_bytes: u64,
    /// The most elements one `flush` answer may hold; a longer answer is an
    /// [`crate::FaultKind::AnswerTooLarge`] fault and every buffer in it is
    /// reclaimed.
    pub max_flush_outputs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel_enabled: true,
            fuel_per_call: 50_000_000,
            call_deadline: Some(Duration::from_secs(10)),
            max_memory_bytes: 16 * 1024 * 1024,
            max_buffer_bytes_per_instance: 64 * 1024 * 1024,
            max_host_resources: 10_000,
            max_route_ports: 64,
            max_route_bytes: 4096,
            max_flush_outputs: 1024,
        }
    }
}

const GIB: u64 = 1024 * 1024 * 1024;

impl Limits {
    /// Checks the limits and lists every problem found (fields named as
    /// they are in an engine configuration, `limits.fuel_per_call`...).
    pub fn validate(&self) -> Result<(), EngineError> {
        let mut problems = Vec::new();
        self.check(&mut problems);
        problems_to_result(problems)
    }

    /// Adds the limits' problems to `problems`.
    pub(crate) fn check(&self, problems: &mut Vec<ConfigProblem>) {
        let mut problem = |field, text: String| {
            problems.push(ConfigProblem {
                field,
                problem: text,
            })
        };
        if self.fuel_enabled && self.fuel_per_call == 0 {
            problem(
                "limits.fuel_per_call",
                "is 0 with fuel metering on: every call would fail at once; give a budget \
                 (the default is 50000000) or turn `limits.fuel_enabled` off"
                    .into(),
            );
        }
        if self.fuel_per_call > i64::MAX as u64 {
            problem(
                "limits.fuel_per_call",
                format!(
                    "{} is over the engine's maximum {}",
                    self.fuel_per_call,
                    i64::MAX
                ),
            );
        }
        if self.call_deadline == Some(Duration::ZERO) {
            problem(
                "limits.call_deadline",
                "is zero: every call would fail; use None for no deadline".into(),
            );
        }
        if self.max_memory_bytes < 64 * 1024 {
            problem(
                "limits.max_memory_bytes",
                format!(
                    "{} is less than one 64 KiB Wasm page: no component could start",
                    self.max_memory_bytes
                ),
            );
        } else if self.max_memory_bytes > 4 * GIB {
            problem(
                "limits.max_memory_bytes",
                format!(
                    "{} is over the 4 GiB of a 32-bit memory",
                    self.max_memory_bytes
                ),
            );
        }
        if self.max_host_resources == 0 {
            problem(
                "limits.max_host_resources",
                "is 0: no component could run".into(),
            );
        }
        if self.max_route_ports == 0 {
            problem(
                "limits.max_route_ports",
                "is 0: a router could never name a port; the default is 64".into(),
            );
        }
        if self.max_route_bytes == 0 {
            problem(
                "limits.max_route_bytes",
                "is 0: a router could never name a port; the default is 4096".into(),
            );
        }
        if self.max_flush_outputs == 0 {
            problem(
                "limits.max_flush_outputs",
                "is 0: an aggregator could never flush; the default is 1024".into(),
            );
        }
        if self.max_buffer_bytes_per_instance == 0 {
            problem(
                "limits.max_buffer_bytes_per_instance",
                "is 0: no guest could allocate a buffer".into(),
            );
        }
    }

    /// Adds a problem if `clock` is virtual and fuel metering is off: the
    /// virtual clock advances by fuel and enforces deadlines through fuel,
    /// so without it time would stand still and no deadline could fire.
    /// Both engines' constructors run this one check.
    pub(crate) fn check_clock(&self, clock: &Clock, problems: &mut Vec<ConfigProblem>) {
        if clock.is_virtual() && !self.fuel_enabled {
            problems.push(ConfigProblem {
                field: "limits.fuel_enabled",
                problem: "is false with a virtual clock: virtual time and deadlines are \
                          measured in fuel; turn fuel on or use the system clock"
                    .into(),
            });
        }
    }

    /// The host-resource limits these limits give each instance.
    pub fn resource_limits(&self) -> ResourceLimits {
        ResourceLimits {
            max_buffer_bytes: self.max_buffer_bytes_per_instance,
            max_resources: self.max_host_resources,
        }
    }
}

/// `Ok` without problems, else [`EngineError::InvalidConfig`] listing them.
pub(crate) fn problems_to_result(problems: Vec<ConfigProblem>) -> Result<(), EngineError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EngineError::InvalidConfig(problems))
    }
}
