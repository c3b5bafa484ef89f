//! Per-instance options a host sets beside the instance's id.

use crate::types::Grants;

/// What a host configures per instance, beside its id (see
/// [`crate::WasmEngine::instantiate_with`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceOptions {
    /// The capabilities `capability-query` reports as granted.
    pub grants: Grants,
    /// Host calls to fail on purpose from the first call on
    /// ([`crate::ComponentInvoker::set_host_faults`]; default: none). A
    /// [`crate::HostFaultPlan::Random`] plan draws per instance, from its
    /// seed and the instance's id ([`crate::HostFaultPlan::for_instance`]),
    /// unless `pin_host_faults` is set: then every instance draws from the
    /// seed as given. A host that restarts an instance under the same id
    /// gets the same draws again (a run replays); under a new id
    /// (`stage#2`), new ones.
    pub host_faults: crate::faults::HostFaultPlan,
    /// Whether a random `host_faults` plan uses its seed as given in every
    /// instance, rather than one derived per instance (default: `false`).
    pub pin_host_faults: bool,
    /// The value the guest's `wasi:random/insecure-seed` answers, fixed for
    /// the instance's life (a replay gives back the recorded one, see
    /// [`crate::WorldInfo::insecure_seed`]); default: derived from the
    /// engine's seed, or drawn from the operating system without one.
    pub insecure_seed: Option<u128>,
    /// Whether the instance traces the host calls of each call from the
    /// first call on ([`crate::ComponentInvoker::trace_host_calls`],
    /// [`crate::ComponentInvoker::host_call_trace`]; default: `false`).
    pub trace_host_calls: bool,
}

impl InstanceOptions {
    /// The host-fault plan instance `id` runs (see
    /// [`InstanceOptions::host_faults`]).
    pub fn host_faults_for(&self, id: &str) -> crate::faults::HostFaultPlan {
        if self.pin_host_faults {
            self.host_faults
        } else {
            self.host_faults.for_instance(id)
        }
    }
}

impl InstanceOptions {
    /// Options with `grants`.
    pub fn with_grants(grants: Grants) -> Self {
        Self {
            grants,
            ..Self::default()
        }
    }
}
