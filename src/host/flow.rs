//! Flow contexts: the trace, span and flow ids and the deadline a guest
//! reads from the `flow-context` of the element it is given.
//!
//! Hot path: the contract's `flow-context` methods.

use super::resources::HostResources;
use super::table::Entry;
use crate::error::ContractViolation;
use crate::faults::HostFunction;
use crate::host_calls::HostArgs;
use crate::types::FlowContext;

impl HostResources {
    #[inline]
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
        self.serve(
            HostFunction::FlowTraceId,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| Ok(s.flow(rep)?.trace_id().to_owned()),
        )
    }

    /// `flow-context.span-id`.
    pub fn flow_span_id(&mut self, rep: u32) -> Result<String, ContractViolation> {
        self.serve(
            HostFunction::FlowSpanId,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| Ok(s.flow(rep)?.span_id().to_owned()),
        )
    }

    /// `flow-context.flow-id`.
    pub fn flow_id(&mut self, rep: u32) -> Result<String, ContractViolation> {
        self.serve(
            HostFunction::FlowId,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| Ok(s.flow(rep)?.flow_id().to_owned()),
        )
    }

    /// `flow-context.deadline-ns`: the time left, 0 for no deadline, and 1
    /// once the deadline has passed (0 would read as "none").
    pub fn flow_deadline_ns(&mut self, rep: u32) -> Result<u64, ContractViolation> {
        self.serve(
            HostFunction::FlowDeadlineNs,
            || HostArgs::Handle(rep),
            #[inline(always)]
            |s| {
                Ok(match s.flow(rep)?.deadline_ns() {
                    None => 0,
                    Some(deadline) => deadline.saturating_sub(s.clock.now_ns()).max(1),
                })
            },
        )
    }

    /// The guest dropped its handle to a flow context.
    #[inline]
    pub fn drop_flow(&mut self, rep: u32) -> Result<(), ContractViolation> {
        self.drop_served(HostFunction::FlowDrop, rep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::host::ResourceLimits;

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
}
