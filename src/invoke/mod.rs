//! What every backend does around a call, written once so that the
//! Wasmtime and mock invokers cannot drift apart: the call frame (admit,
//! begin, body, finish, classify; [`frame`]), admission and fuel budgets
//! ([`admit`]), and the async face of the synchronous calls.
//!
//! Hot path.

mod admit;
mod frame;

pub(crate) use admit::{OverBound, check_flush, check_fuel, check_route};
pub(crate) use frame::{CallBackend, CallFrame, CallState, Failure, call, noop};

/// Implements [`crate::ComponentInvoker`] for an invoker type whose calls
/// are its synchronous `*_sync` methods (a guest call is CPU-bound and
/// bounded by fuel and deadline, so it runs on the caller's task), which
/// has a `state: CallState` field, `host()` and `host_mut()` methods
/// (its [`crate::host::HostResources`]), and `world_tap()` and
/// `world_source()` methods (its tap and where its world comes from, see
/// [`crate::world`]).
macro_rules! async_invoker_from_sync {
    ($ty:ty) => {
        impl $crate::ComponentInvoker for $ty {
            fn world_info(&self) -> $crate::WorldInfo {
                self.world_source()
            }

            fn log_world(&mut self, on: bool) {
                self.world_tap().log(on)
            }

            fn take_world(&mut self) -> $crate::CallWorld {
                self.world_tap().take()
            }

            fn script_world(&mut self, reads: &[$crate::WorldRead]) {
                self.world_tap().script(reads)
            }

            fn component_id(&self) -> &$crate::ComponentId {
                &self.state.id
            }

            fn roles(&self) -> $crate::Roles {
                self.state.roles
            }

            fn live_resources(&self) -> usize {
                self.host().live()
            }

            fn poisoned(&self) -> Option<&$crate::Fault> {
                self.state.poisoned.as_ref()
            }

            fn grants(&self) -> &$crate::Grants {
                self.host().grants()
            }

            fn set_host_faults(&mut self, plan: $crate::HostFaultPlan) {
                self.host_mut().set_fault_plan(plan)
            }

            fn injected_fault(&self) -> Option<$crate::InjectedFault> {
                self.host().injected_fault()
            }

            fn trace_host_calls(&mut self, on: bool) {
                self.host_mut().set_host_call_trace(on)
            }

            fn host_call_trace(&self) -> &[$crate::HostCall] {
                self.host().host_call_trace()
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

            async fn evaluate(
                &mut self,
                element: $crate::StreamElement,
            ) -> $crate::Invocation<bool> {
                self.evaluate_sync(element)
            }

            async fn route(
                &mut self,
                element: $crate::StreamElement,
            ) -> $crate::Invocation<Vec<String>> {
                self.route_sync(element)
            }

            async fn ingest(
                &mut self,
                element: $crate::StreamElement,
            ) -> $crate::Invocation<Option<$crate::OutputElement>> {
                self.ingest_sync(element)
            }

            async fn flush(&mut self) -> $crate::Invocation<Vec<$crate::OutputElement>> {
                self.flush_sync()
            }

            async fn teardown(&mut self) -> $crate::Invocation<()> {
                self.teardown_sync()
            }
        }
    };
}

pub(crate) use async_invoker_from_sync;
