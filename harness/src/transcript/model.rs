//! The transcript of a run: its header, one entry per call, what each entry records.

use serde::{Deserialize, Serialize};
use torvyn_engine::{Function, InjectedFault, InvocationMetrics};

use crate::spec::BackendKind;
use crate::spec::ClockSetting;
use torvyn_engine::CompilationStrategy;

use super::{Outcome, PayloadPreview, Summary};

/// The record of one scenario run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// The scenario's name.
    pub scenario: String,
    /// The component as the scenario named it.
    pub component: String,
    /// The role it was driven in (`processor`, `source`, `sink`).
    pub role: String,
    /// The seed of the run.
    pub seed: u64,
    /// The backend that ran it.
    pub backend: BackendKind,
    /// The compiler (Wasmtime; the mock compiles nothing).
    pub strategy: CompilationStrategy,
    /// The clock.
    pub clock: ClockSetting,
    /// The capabilities granted to the component.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// The trace id every element carried.
    pub trace_id: String,
    /// The flow id every element carried.
    pub flow_id: String,
    /// Every call, in order.
    pub entries: Vec<Entry>,
    /// Totals.
    pub summary: Summary,
    /// What the run did that the scenario's `expect_host_calls` and
    /// `forbid_host_calls` do not allow, one line per problem
    /// ([`crate::host_calls`]); empty when all was as expected. Not part
    /// of a snapshot: `torvyn-sim check` fails on it instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unexpected_host_calls: Vec<String>,
}

/// One call and what it did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the transcript, from 0.
    pub index: usize,
    /// The pipeline stage called (pipelines only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The function called.
    pub call: Function,
    /// Where the element went next (pipelines only): the stages a filter
    /// passed it to, or a router's ports resolved to stages, each lent the
    /// same buffer (no copy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lent_to: Vec<String>,
    /// The argument of `init` (the config) or `notify-backpressure` (the
    /// signal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
    /// The element handed to `process` or `push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputSummary>,
    /// What the call returned.
    pub outcome: Outcome,
    /// Fuel the guest consumed.
    pub fuel: u64,
    /// The engine clock after the call, in ns.
    pub now_ns: u64,
    /// How long the call took on the engine clock, in ns.
    pub duration_ns: u64,
    /// Bytes copied from host buffers into the guest.
    pub bytes_in: u64,
    /// Bytes copied from the guest into host buffers.
    pub bytes_out: u64,
    /// Host buffers the guest allocated.
    pub buffers_allocated: u32,
    /// Calls the guest made into the host.
    pub host_calls: u32,
    /// Host resources the guest left behind, reclaimed by the engine.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub resources_reclaimed: u32,
    /// Host resources the instance held after the call (0 unless leaking).
    pub live_resources: usize,
    /// The guest's linear memory after the call, in bytes.
    pub memory_bytes: u64,
    /// What the guest wrote to stdout during the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<PayloadPreview>,
    /// What the guest wrote to stderr during the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<PayloadPreview>,
    /// For a failed call that wrote to stderr: the lines of it that say
    /// what went wrong, whole, however short the preview
    /// ([`guest_error_lines`](super::guest_error_lines): a Python traceback's last frame and its
    /// exception, else the last lines). `torvyn-sim run` shows them first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_error: Option<String>,
    /// The host call the scenario's `fail_host_call` failed in this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_host_call: Option<FailedHostCall>,
    /// With `trace_host_calls`: the contract host calls the guest made in
    /// this call, in order, one line each (`buffer.read-all(#1) -> 5
    /// bytes`, [`crate::host_calls`]); absent without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_call_trace: Option<Vec<String>>,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

pub(super) fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

pub(super) fn is_false(v: &bool) -> bool {
    !*v
}

impl Entry {
    /// An entry for `call` with an outcome and metrics; the clock reading,
    /// live resources and guest output are filled in by the caller.
    pub fn new(
        index: usize,
        call: Function,
        outcome: Outcome,
        metrics: &InvocationMetrics,
    ) -> Self {
        Self {
            index,
            stage: None,
            call,
            lent_to: Vec::new(),
            argument: None,
            input: None,
            outcome,
            fuel: metrics.fuel_consumed,
            now_ns: 0,
            duration_ns: u64::try_from(metrics.duration.as_nanos()).unwrap_or(u64::MAX),
            bytes_in: metrics.bytes_into_guest,
            bytes_out: metrics.bytes_out_of_guest,
            buffers_allocated: metrics.buffers_allocated,
            host_calls: metrics.host_calls,
            resources_reclaimed: metrics.resources_reclaimed,
            live_resources: 0,
            memory_bytes: metrics.memory_bytes,
            stdout: None,
            stderr: None,
            stderr_error: None,
            failed_host_call: None,
            host_call_trace: None,
        }
    }

    /// Whether the call failed (a `process-error` or a fault).
    pub fn failed(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::ProcessError { .. } | Outcome::Fault { .. }
        )
    }
}

/// The host call a plan failed in one call, as a transcript entry records
/// it (`failed_host_call:`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedHostCall {
    /// Its index among the run's host calls (from 0).
    pub index: u64,
    /// Its index among the host calls of its call.
    pub in_call: u32,
    /// The host function (`buffer-allocator.allocate`...).
    pub function: String,
    /// What the guest got: `allocation-failed`, `capacity-exceeded` or
    /// `trap`.
    pub answer: String,
}

impl From<InjectedFault> for FailedHostCall {
    fn from(f: InjectedFault) -> Self {
        Self {
            index: f.index_in_run,
            in_call: f.index_in_call,
            function: f.function.name().into(),
            answer: f.answer().into(),
        }
    }
}

/// The element an entry sent, in short.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSummary {
    /// The sequence number the runtime assigned.
    pub sequence: u64,
    /// The timestamp the runtime assigned (engine clock, ns).
    pub timestamp_ns: u64,
    /// The content type.
    pub content_type: String,
    /// The absolute deadline, if any (engine clock, ns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ns: Option<u64>,
    /// The payload.
    pub payload: PayloadPreview,
}
