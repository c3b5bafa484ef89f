//! The two traits of the 0.1 API: [`WasmEngine`] (cold path) and
//! [`ComponentInvoker`] (hot path), with the signatures torvyn-engine 0.1.1
//! published (`#[async_trait]` included), so code that implements or calls
//! them builds unchanged.
//!
//! In 0.2 the instance is the invoker (`v2::ComponentInvoker` is
//! implemented by each instance, with native `async fn`s and an
//! `Invocation` carrying metrics); here a stateless invoker is handed
//! `&mut ComponentInstance`, as 0.1 did.

use async_trait::async_trait;
use torvyn_types::{BackpressureSignal, ComponentId, ProcessError};

use crate::error::EngineError;
use crate::types::{
    CompiledComponent, ComponentInstance, ImportBindings, OutputElement, ProcessResult,
    StreamElement,
};

/// Cold-path operations of a component engine: compile, (de)serialize,
/// instantiate, fuel and memory.
///
/// Implemented by [`crate::WasmtimeEngine`] and (feature `mock`)
/// [`crate::mock::MockEngine`].
///
/// # Example
/// ```no_run
/// use torvyn_engine::{WasmEngine, WasmtimeEngine, WasmtimeEngineConfig};
/// use torvyn_types::ComponentId;
///
/// # async fn example(bytes: &[u8]) -> Result<(), torvyn_engine::EngineError> {
/// let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
/// let compiled = engine.compile_component(bytes)?;
/// let instance = engine
///     .instantiate(&compiled, engine.imports(), ComponentId::new(1))
///     .await?;
/// assert!(instance.has_processor() || instance.has_source() || instance.has_sink());
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait WasmEngine: Send + Sync + 'static {
    /// Compiles a component binary.
    ///
    /// # Errors
    /// [`EngineError::CompilationFailed`] with the reason (not a component,
    /// invalid bytes, an import the engine does not provide...).
    fn compile_component(&self, bytes: &[u8]) -> Result<CompiledComponent, EngineError>;

    /// Serializes compiled code for a disk cache.
    ///
    /// # Errors
    /// [`EngineError::Internal`] when the component is not this engine's.
    fn serialize_component(&self, compiled: &CompiledComponent) -> Result<Vec<u8>, EngineError>;

    /// Loads compiled code [`WasmEngine::serialize_component`] produced.
    ///
    /// `Ok(None)`: the bytes were made by another engine version or
    /// configuration (compile again).
    ///
    /// # Safety
    /// The bytes become executable code: they must come from
    /// `serialize_component` of an engine with the same configuration, and
    /// must not have been tampered with.
    ///
    /// # Errors
    /// [`EngineError::DeserializationFailed`] for damaged bytes.
    unsafe fn deserialize_component(
        &self,
        bytes: &[u8],
    ) -> Result<Option<CompiledComponent>, EngineError>;

    /// Creates an instance of a compiled component.
    ///
    /// # Errors
    /// [`EngineError::InstantiationFailed`] (the component's start-up
    /// trapped, a limit), or [`EngineError::Internal`] for bindings of
    /// another engine.
    async fn instantiate(
        &self,
        compiled: &CompiledComponent,
        imports: ImportBindings,
        component_id: ComponentId,
    ) -> Result<ComponentInstance, EngineError>;

    /// Sets the fuel budget each later call of `instance` starts with.
    ///
    /// # Errors
    /// [`EngineError::Internal`] when fuel metering is off or the instance
    /// is another engine's.
    fn set_fuel(&self, instance: &mut ComponentInstance, fuel: u64) -> Result<(), EngineError>;

    /// Fuel left after the instance's last call (its budget before the
    /// first); `None` when fuel metering is off.
    fn fuel_remaining(&self, instance: &ComponentInstance) -> Option<u64>;

    /// The instance's linear memory in bytes.
    fn memory_usage(&self, instance: &ComponentInstance) -> usize;
}

/// Hot-path calls into component instances.
///
/// The invoker is stateless towards instances (each call is handed one)
/// and holds the flow's payloads: a [`torvyn_types::BufferHandle`] in an
/// element names bytes in the invoker's [`crate::Payloads`].
///
/// How failures come back, on [`crate::WasmtimeInvoker`] and
/// [`crate::mock::MockInvoker`]:
///
/// | what happened | `ProcessError` |
/// |---|---|
/// | the guest returned a `process-error` | the same kind and message |
/// | fuel exhausted, deadline exceeded | `DeadlineExceeded` |
/// | any other trap or engine fault (memory limit, contract violation, a call after an earlier trap...) | `Fatal`, with 0.2's fault message |
/// | the component lacks the role | `Internal` (`... does not export 'process'`) |
/// | a payload handle that names no bytes | `InvalidInput` |
#[async_trait]
pub trait ComponentInvoker: Send + Sync + 'static {
    /// `source.pull()`: `Ok(None)` when the source is exhausted.
    async fn invoke_pull(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
    ) -> Result<Option<OutputElement>, ProcessError>;

    /// `processor.process(element)`; the element's payload handle is
    /// consumed.
    async fn invoke_process(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<ProcessResult, ProcessError>;

    /// `sink.push(element)`; the element's payload handle is consumed.
    async fn invoke_push(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<BackpressureSignal, ProcessError>;

    /// `lifecycle.init(config)`; `Ok(())` for a component without the
    /// lifecycle role.
    async fn invoke_init(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        config: &str,
    ) -> Result<(), ProcessError>;

    /// `lifecycle.teardown()`, best effort: a failure is not reported.
    async fn invoke_teardown(&self, instance: &mut ComponentInstance, component_id: ComponentId);
}
