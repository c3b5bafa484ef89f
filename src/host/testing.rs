//! What the host module's tests share: a small store and its checks.

use super::resources::{HostResources, ResourceLimits};
use crate::clock::Clock;
use crate::error::ContractViolation;
use crate::types::InvocationMetrics;

pub(super) fn store() -> HostResources {
    HostResources::new(
        ResourceLimits {
            max_buffer_bytes: 1024,
            max_resources: 8,
        },
        Clock::system(),
    )
}

pub(super) fn end(res: &mut HostResources, inputs: &[u32]) -> InvocationMetrics {
    let mut m = InvocationMetrics::default();
    res.end_call(inputs, &mut m);
    m
}

#[track_caller]
pub(super) fn assert_stale<T: std::fmt::Debug>(result: Result<T, ContractViolation>) {
    assert!(
        matches!(result, Err(ContractViolation::StaleHandle { .. })),
        "expected a stale handle, got {result:?}"
    );
}
