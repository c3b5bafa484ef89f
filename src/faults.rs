//! Host-call fault injection: make chosen guest calls into the host fail
//! the way the contract lets them, to learn how a component behaves when
//! the host says no.
//!
//! A [`HostFaultPlan`] picks host calls by their index (in the instance's
//! run, or in each call) or by a seeded probability. A picked call answers
//! the contract's error where its function has one
//! ([`HostFunction::error_case`]: `allocate` and `clone-into-mutable` answer
//! `allocation-failed`, `write` and `append` answer `capacity-exceeded`);
//! any other function traps, and the call ends in a
//! [`FaultKind::Host`](crate::FaultKind::Host) fault naming the host call.
//! Both backends share this through [`super::HostResources`], so a plan
//! fails the same host call of the same guest code on Wasmtime and on the
//! mock.

use std::fmt;

use crate::random::{SplitMix64, derive_seed};

/// Which guest calls into the host fail on purpose
/// ([`crate::ComponentInvoker::set_host_faults`],
/// [`crate::InstanceOptions::host_faults`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HostFaultPlan {
    /// None: every host call is served (the default).
    #[default]
    None,
    /// The host call with this index (from 0) among all the instance's
    /// host calls since the plan was set: one failure in the run.
    NthOfRun(u64),
    /// The host call with this index (from 0) of every call.
    NthOfCall(u32),
    /// Each host call fails with probability `per_million / 1_000_000`,
    /// drawn from a generator seeded with `seed` when the plan is set.
    Random {
        /// The generator's seed.
        seed: u64,
        /// Failures per million host calls (at most 1 000 000).
        per_million: u32,
    },
}

impl HostFaultPlan {
    /// The plan as an instance named `id` runs it when set through
    /// [`crate::InstanceOptions::host_faults`]: a [`HostFaultPlan::Random`]
    /// plan's generator is seeded from its seed and the instance's id (as
    /// WASI randomness is, [`crate::RandomSource::seed_for`]), so every
    /// instance draws its own failures and the same instance the same ones
    /// in every run; other plans are themselves.
    ///
    /// ```
    /// use torvyn_engine::HostFaultPlan;
    ///
    /// let plan = HostFaultPlan::Random { seed: 7, per_million: 250_000 };
    /// assert_eq!(plan.for_instance("stage-a"), plan.for_instance("stage-a"));
    /// assert_ne!(plan.for_instance("stage-a"), plan.for_instance("stage-a#2"));
    /// assert_eq!(HostFaultPlan::NthOfRun(3).for_instance("x"), HostFaultPlan::NthOfRun(3));
    /// ```
    pub fn for_instance(self, id: &str) -> Self {
        match self {
            Self::Random { seed, per_million } => Self::Random {
                seed: derive_seed(seed, id),
                per_million,
            },
            plan => plan,
        }
    }
}

/// The host functions a guest calls, as the contract names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HostFunction {
    /// `buffer.size`.
    BufferSize,
    /// `buffer.content-type`.
    BufferContentType,
    /// `buffer.read`.
    BufferRead,
    /// `buffer.read-all`.
    BufferReadAll,
    /// Dropping a `buffer` handle.
    BufferDrop,
    /// `mutable-buffer.write`.
    MutableWrite,
    /// `mutable-buffer.append`.
    MutableAppend,
    /// `mutable-buffer.size`.
    MutableSize,
    /// `mutable-buffer.capacity`.
    MutableCapacity,
    /// `mutable-buffer.set-content-type`.
    MutableSetContentType,
    /// `mutable-buffer.freeze`.
    MutableFreeze,
    /// Dropping a `mutable-buffer` handle.
    MutableDrop,
    /// `flow-context.trace-id`.
    FlowTraceId,
    /// `flow-context.span-id`.
    FlowSpanId,
    /// `flow-context.flow-id`.
    FlowId,
    /// `flow-context.deadline-ns`.
    FlowDeadlineNs,
    /// Dropping a `flow-context` handle.
    FlowDrop,
    /// `buffer-allocator.allocate`.
    Allocate,
    /// `buffer-allocator.clone-into-mutable`.
    CloneIntoMutable,
    /// `capability-query.has-capability`.
    HasCapability,
}

impl HostFunction {
    /// Every host function, in the contract's order.
    pub const ALL: [HostFunction; 20] = [
        Self::BufferSize,
        Self::BufferContentType,
        Self::BufferRead,
        Self::BufferReadAll,
        Self::BufferDrop,
        Self::MutableWrite,
        Self::MutableAppend,
        Self::MutableSize,
        Self::MutableCapacity,
        Self::MutableSetContentType,
        Self::MutableFreeze,
        Self::MutableDrop,
        Self::FlowTraceId,
        Self::FlowSpanId,
        Self::FlowId,
        Self::FlowDeadlineNs,
        Self::FlowDrop,
        Self::Allocate,
        Self::CloneIntoMutable,
        Self::HasCapability,
    ];

    /// The contract's name (`buffer.read-all`, `[resource-drop]buffer`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::BufferSize => "buffer.size",
            Self::BufferContentType => "buffer.content-type",
            Self::BufferRead => "buffer.read",
            Self::BufferReadAll => "buffer.read-all",
            Self::BufferDrop => "[resource-drop]buffer",
            Self::MutableWrite => "mutable-buffer.write",
            Self::MutableAppend => "mutable-buffer.append",
            Self::MutableSize => "mutable-buffer.size",
            Self::MutableCapacity => "mutable-buffer.capacity",
            Self::MutableSetContentType => "mutable-buffer.set-content-type",
            Self::MutableFreeze => "mutable-buffer.freeze",
            Self::MutableDrop => "[resource-drop]mutable-buffer",
            Self::FlowTraceId => "flow-context.trace-id",
            Self::FlowSpanId => "flow-context.span-id",
            Self::FlowId => "flow-context.flow-id",
            Self::FlowDeadlineNs => "flow-context.deadline-ns",
            Self::FlowDrop => "[resource-drop]flow-context",
            Self::Allocate => "buffer-allocator.allocate",
            Self::CloneIntoMutable => "buffer-allocator.clone-into-mutable",
            Self::HasCapability => "capability-query.has-capability",
        }
    }

    /// The contract error a failed call of this function answers
    /// (`allocation-failed`, `capacity-exceeded`), or `None` when the
    /// function has no error case and a failure traps.
    pub fn error_case(self) -> Option<&'static str> {
        match self {
            Self::Allocate | Self::CloneIntoMutable => Some("allocation-failed"),
            Self::MutableWrite | Self::MutableAppend => Some("capacity-exceeded"),
            _ => None,
        }
    }
}

impl fmt::Display for HostFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A host call a [`HostFaultPlan`] failed
/// ([`crate::ComponentInvoker::injected_fault`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InjectedFault {
    /// The function the guest called.
    pub function: HostFunction,
    /// The host call's index (from 0) among the instance's host calls
    /// since the plan was set.
    pub index_in_run: u64,
    /// Its index (from 0) among the host calls of its call.
    pub index_in_call: u32,
}

impl InjectedFault {
    /// What the guest got: the contract error (`allocation-failed`,
    /// `capacity-exceeded`), or `trap`.
    pub fn answer(&self) -> &'static str {
        self.function.error_case().unwrap_or("trap")
    }
}

impl fmt::Display for InjectedFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "host call {} of the run ({} of the call), `{}`, failed on purpose: {}",
            self.index_in_run,
            self.index_in_call,
            self.function,
            self.answer()
        )
    }
}

/// A plan in force on one instance: what it has counted and failed.
#[derive(Debug)]
pub(crate) struct FaultState {
    plan: HostFaultPlan,
    /// Host calls since the plan was set.
    seen: u64,
    rng: SplitMix64,
    /// The first host call failed in the current call.
    pub(crate) injected: Option<InjectedFault>,
    /// The failed host call that trapped, in the current call: later host
    /// calls of the same call are refused (the guest stopped there).
    pub(crate) trapped: Option<InjectedFault>,
}

impl FaultState {
    pub(crate) fn new(plan: HostFaultPlan) -> Self {
        let seed = match plan {
            HostFaultPlan::Random { seed, .. } => seed,
            _ => 0,
        };
        Self {
            plan,
            seen: 0,
            rng: SplitMix64::new(seed),
            injected: None,
            trapped: None,
        }
    }

    pub(crate) fn begin_call(&mut self) {
        self.injected = None;
        self.trapped = None;
    }

    /// Whether the host call `index_in_call` of the current call, of
    /// `function`, fails.
    pub(crate) fn fails(&mut self, function: HostFunction, index_in_call: u32) -> bool {
        let index_in_run = self.seen;
        self.seen += 1;
        let fails = match self.plan {
            HostFaultPlan::None => false,
            HostFaultPlan::NthOfRun(n) => index_in_run == n,
            HostFaultPlan::NthOfCall(n) => index_in_call == n,
            HostFaultPlan::Random { per_million, .. } => {
                self.rng.next_u64() % 1_000_000 < u64::from(per_million.min(1_000_000))
            }
        };
        if fails {
            let fault = InjectedFault {
                function,
                index_in_run,
                index_in_call,
            };
            self.injected.get_or_insert(fault);
            if function.error_case().is_none() && self.trapped.is_none() {
                self.trapped = Some(fault);
            }
        }
        fails
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_pick_the_calls_they_name() {
        let mut s = FaultState::new(HostFaultPlan::NthOfRun(2));
        let picked: Vec<bool> = (0..5).map(|i| s.fails(HostFunction::Allocate, i)).collect();
        assert_eq!(picked, [false, false, true, false, false]);
        assert_eq!(s.injected.unwrap().index_in_run, 2);
        assert!(s.trapped.is_none(), "allocate has an error case");

        let mut s = FaultState::new(HostFaultPlan::NthOfCall(1));
        for _ in 0..3 {
            s.begin_call();
            assert!(!s.fails(HostFunction::BufferReadAll, 0));
            assert!(s.fails(HostFunction::BufferReadAll, 1));
            assert!(s.trapped.is_some(), "read-all has no error case: it traps");
        }

        let run = |seed| {
            let mut s = FaultState::new(HostFaultPlan::Random {
                seed,
                per_million: 250_000,
            });
            (0..400)
                .map(|i| s.fails(HostFunction::Allocate, i))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7), "one seed, one choice");
        assert_ne!(run(7), run(8));
        let failed = run(7).iter().filter(|f| **f).count();
        assert!((50..150).contains(&failed), "about a quarter: {failed}");
    }
}
