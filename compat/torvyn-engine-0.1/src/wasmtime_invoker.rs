//! [`WasmtimeInvoker`]: the 0.1 [`ComponentInvoker`] over 0.2's Wasmtime
//! instances (feature `wasmtime-backend`, on by default).
//!
//! Each call goes through 0.2's typed call of the contract function, with
//! the instance's fuel budget and deadline; the element's bytes come from
//! the invoker's [`Payloads`] and outputs go back into it.

use async_trait::async_trait;
use torvyn_types::{BackpressureSignal, ComponentId, ProcessError};

use crate::bridge::Call;
use crate::payload::Payloads;
use crate::traits::ComponentInvoker;
use crate::types::{
    ComponentInstance, ComponentInstanceInner, OutputElement, ProcessResult, StreamElement,
};
use crate::wasmtime_engine::WasmtimeInstance;

/// Calls components on the Wasmtime backend, and holds the bytes behind
/// the payload handles of the flow that owns it.
///
/// ```no_run
/// use torvyn_engine::{
///     ComponentInvoker, ProcessResult, StreamElement, WasmEngine, WasmtimeEngine,
///     WasmtimeEngineConfig, WasmtimeInvoker,
/// };
/// use torvyn_types::{ComponentId, ElementMeta};
///
/// # async fn run(upper_wasm: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
/// let compiled = engine.compile_component(upper_wasm)?;
/// let id = ComponentId::new(1);
/// let mut upper = engine.instantiate(&compiled, engine.imports(), id).await?;
///
/// let invoker = WasmtimeInvoker::new();
/// let payloads = invoker.payloads().clone();
/// let element = StreamElement {
///     meta: ElementMeta::new(0, 0, "text/plain".into()),
///     payload: payloads.insert("hello"),
/// };
/// if let ProcessResult::Output(out) = invoker.invoke_process(&mut upper, id, element).await? {
///     assert_eq!(payloads.take(out.payload).as_deref(), Some(&b"HELLO"[..]));
/// }
/// # Ok(())
/// # }
/// ```
pub struct WasmtimeInvoker {
    payloads: Payloads,
}

impl WasmtimeInvoker {
    /// An invoker with an empty payload table.
    pub fn new() -> Self {
        Self {
            payloads: Payloads::new(),
        }
    }

    /// The invoker's payload table: clone it to put bytes in and read them
    /// out while a flow owns the invoker. New in 0.1.2.
    #[inline]
    pub fn payloads(&self) -> &Payloads {
        &self.payloads
    }
}

impl Default for WasmtimeInvoker {
    fn default() -> Self {
        Self::new()
    }
}

/// When a flow ends, its invoker goes, and with it every handle it still
/// holds (elements a failed or cancelled flow left queued).
impl Drop for WasmtimeInvoker {
    fn drop(&mut self) {
        self.payloads.release_all();
    }
}

fn not_wasmtime(component_id: ComponentId) -> ProcessError {
    ProcessError::Internal(format!(
        "WasmtimeInvoker called with {component_id}, an instance of another backend: call it \
         with that backend's invoker"
    ))
}

/// Runs `$body` with `$call`, a [`Call`] on the instance's 0.2 invoker, then
/// collects what the guest wrote.
macro_rules! on_wasmtime {
    ($self:ident, $instance:ident, $id:ident, |$call:ident| $body:expr) => {{
        let ComponentInstance {
            inner,
            last_invocation,
            ..
        } = $instance;
        #[allow(irrefutable_let_patterns)]
        let ComponentInstanceInner::Wasmtime(inst) = inner.get_mut() else {
            return Err(not_wasmtime($id));
        };
        let inst: &mut WasmtimeInstance = inst;
        let result = {
            let $call = Call {
                instance: &mut inst.invoker,
                payloads: &$self.payloads,
                component_id: $id,
                last: last_invocation,
            };
            $body
        };
        inst.collect_output();
        result
    }};
}

#[async_trait]
impl ComponentInvoker for WasmtimeInvoker {
    async fn invoke_pull(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
    ) -> Result<Option<OutputElement>, ProcessError> {
        on_wasmtime!(self, instance, component_id, |call| call.pull().await)
    }

    async fn invoke_process(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<ProcessResult, ProcessError> {
        on_wasmtime!(self, instance, component_id, |call| call
            .process(element)
            .await)
    }

    async fn invoke_push(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<BackpressureSignal, ProcessError> {
        on_wasmtime!(self, instance, component_id, |call| call
            .push(element)
            .await)
    }

    async fn invoke_init(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        config: &str,
    ) -> Result<(), ProcessError> {
        // As in 0.1.1: a component without `lifecycle` accepts any config.
        if !instance.has_lifecycle {
            return Ok(());
        }
        on_wasmtime!(self, instance, component_id, |call| call.init(config).await)
    }

    async fn invoke_teardown(&self, instance: &mut ComponentInstance, component_id: ComponentId) {
        if !instance.has_lifecycle {
            return;
        }
        let outcome: Result<(), ProcessError> =
            async { on_wasmtime!(self, instance, component_id, |call| call.teardown().await) }
                .await;
        if let Err(e) = outcome {
            #[cfg(feature = "tracing-support")]
            tracing::warn!(component_id = %component_id, error = %e, "component teardown failed");
            let _ = e;
        }
    }
}
