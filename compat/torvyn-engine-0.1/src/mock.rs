//! [`MockEngine`] and [`MockInvoker`] (feature `mock`): test the reactor,
//! a host or a pipeline without WebAssembly.
//!
//! The engine runs 0.2's mock ([`v2::mock`]). Bytes that name one of its
//! models ([`v2::mock::models::NAMES`]: `passthrough`, `uppercase`,
//! `filter`, `counter-source`, `token-source`, `sink`...), either as the
//! bare name (`b"uppercase"`) or as
//! [`v2::mock::MockEngine::component_bytes`], compile to that model: it
//! reads and writes real payload bytes through the invoker's
//! [`Payloads`], costs modelled fuel, and has the model's roles. Models a
//! test registers with [`MockEngine::v2`] (`register`) are found the same
//! way. Any other bytes compile to 0.1.1's canned component, which behaves
//! as 0.1.1's did: every role; `pull` produces elements numbered 0, 1, 2...
//! forever; `process` returns its input unchanged; `push` answers `Ready`;
//! fuel stays at what was set (1 000 000 to start with).
//!
//! ```
//! use torvyn_engine::mock::{MockEngine, MockInvoker};
//! use torvyn_engine::{ComponentInvoker, ProcessResult, StreamElement, WasmEngine};
//! use torvyn_types::{ComponentId, ElementMeta};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let engine = MockEngine::new();
//! let invoker = MockInvoker::new();
//! let id = ComponentId::new(1);
//! let compiled = engine.compile_component(b"uppercase").unwrap();
//! let mut upper = engine.instantiate(&compiled, MockEngine::mock_imports(), id).await.unwrap();
//!
//! let payloads = invoker.payloads();
//! let element = StreamElement {
//!     meta: ElementMeta::new(0, 0, "text/plain".into()),
//!     payload: payloads.insert("hello"),
//! };
//! let ProcessResult::Output(out) = invoker.invoke_process(&mut upper, id, element).await.unwrap()
//! else { unreachable!() };
//! assert_eq!(payloads.take(out.payload).as_deref(), Some(&b"HELLO"[..]));
//! # });
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use torvyn_types::{BackpressureSignal, ComponentId, ElementMeta, ProcessError};
use v2::WasmEngine as _;

use crate::bridge::Call;
use crate::error::EngineError;
use crate::payload::Payloads;
use crate::traits::{ComponentInvoker, WasmEngine};
use crate::types::{
    CompiledComponent, CompiledComponentInner, ComponentInstance, ComponentInstanceInner,
    ImportBindings, ImportBindingsInner, InstanceCell, InvocationResult, MockCompiledComponent,
    OutputElement, ProcessResult, StreamElement,
};

/// The fuel a mock instance starts with, as in 0.1.1 (and the budget of
/// each call of a model).
const MOCK_FUEL: u64 = 1_000_000;

/// 0.1.1's canned serialized form.
const CANNED_ARTIFACT: [u8; 2] = [0xCA, 0xFE];

/// The mock engine: 0.2's mock with its models registered.
pub struct MockEngine {
    v2: v2::mock::MockEngine,
    component_counter: AtomicU64,
}

impl MockEngine {
    /// An engine with every model of 0.2's mock registered, on the system
    /// clock, each call of a model given a budget of 1 000 000 fuel.
    pub fn new() -> Self {
        let mut config = v2::mock::MockEngineConfig::default();
        config.limits.fuel_per_call = MOCK_FUEL;
        let v2 = v2::mock::MockEngine::with_models(config, v2::Clock::system())
            .expect("the default mock configuration is valid");
        Self {
            v2,
            component_counter: AtomicU64::new(0),
        }
    }

    /// Import bindings for the mock (it has no imports to bind).
    pub fn mock_imports() -> ImportBindings {
        ImportBindings {
            inner: ImportBindingsInner::Mock,
        }
    }

    /// The 0.2 mock engine underneath: `register` models of your own (a
    /// trapping processor, a scripted source...) and compile their names;
    /// read its `journal`.
    pub fn v2(&self) -> &v2::mock::MockEngine {
        &self.v2
    }

    /// The model `bytes` name, if any: 0.2's mock component bytes, or a
    /// registered model's bare name.
    fn model(&self, bytes: &[u8]) -> Option<Result<v2::mock::MockCompiled, EngineError>> {
        let magic = v2::mock::MockEngine::component_bytes("");
        let failed = |e: v2::EngineError| EngineError::CompilationFailed {
            reason: e.to_string(),
            source_hint: None,
        };
        if bytes.starts_with(&magic) {
            return Some(self.v2.compile(bytes).map_err(failed));
        }
        let name = std::str::from_utf8(bytes).ok()?;
        self.v2.is_registered(name).then(|| {
            self.v2
                .compile(&v2::mock::MockEngine::component_bytes(name))
                .map_err(failed)
        })
    }
}

impl Default for MockEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MockEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockEngine")
            .field("compiled", &self.component_counter.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A live mock instance (boxed in [`ComponentInstance`], so the canned
/// variant's small size costs nothing).
#[allow(clippy::large_enum_variant)]
pub(crate) enum MockInstance {
    Model(v2::mock::MockInvoker),
    Canned(Canned),
}

/// 0.1.1's canned instance.
pub(crate) struct Canned {
    fuel: u64,
    calls: u64,
}

/// `f` of the mock instance, `None` for another backend's.
fn with_mock<R>(instance: &ComponentInstance, f: impl FnOnce(&MockInstance) -> R) -> Option<R> {
    instance.inner.with(|inner| match inner {
        ComponentInstanceInner::Mock(m) => Some(f(m)),
        #[allow(unreachable_patterns)]
        _ => None,
    })
}

#[async_trait]
impl WasmEngine for MockEngine {
    fn compile_component(&self, bytes: &[u8]) -> Result<CompiledComponent, EngineError> {
        let model = self.model(bytes).transpose()?;
        let id = self.component_counter.fetch_add(1, Ordering::Relaxed);
        Ok(CompiledComponent {
            inner: CompiledComponentInner::Mock(MockCompiledComponent { id, model }),
        })
    }

    fn serialize_component(&self, compiled: &CompiledComponent) -> Result<Vec<u8>, EngineError> {
        match &compiled.inner {
            CompiledComponentInner::Mock(MockCompiledComponent {
                model: Some(model), ..
            }) => self.v2.serialize(model).map_err(|e| EngineError::Internal {
                reason: e.to_string(),
            }),
            CompiledComponentInner::Mock(_) => Ok(CANNED_ARTIFACT.to_vec()),
            #[allow(unreachable_patterns)]
            _ => Err(EngineError::Internal {
                reason: "cannot serialize a component compiled by another backend with the mock"
                    .into(),
            }),
        }
    }

    unsafe fn deserialize_component(
        &self,
        bytes: &[u8],
    ) -> Result<Option<CompiledComponent>, EngineError> {
        if bytes == CANNED_ARTIFACT {
            return self.compile_component(b"").map(Some);
        }
        // SAFETY: the mock's artifacts hold a model's name, no code.
        match unsafe { self.v2.deserialize(bytes) } {
            Ok(model) => {
                let id = self.component_counter.fetch_add(1, Ordering::Relaxed);
                Ok(Some(CompiledComponent {
                    inner: CompiledComponentInner::Mock(MockCompiledComponent {
                        id,
                        model: Some(model),
                    }),
                }))
            }
            // As 0.1.1: bytes the mock does not recognize are "not
            // compatible", not an error.
            Err(_) => Ok(None),
        }
    }

    async fn instantiate(
        &self,
        compiled: &CompiledComponent,
        _imports: ImportBindings,
        component_id: ComponentId,
    ) -> Result<ComponentInstance, EngineError> {
        #[allow(unreachable_patterns)]
        let compiled = match &compiled.inner {
            CompiledComponentInner::Mock(c) => c,
            _ => {
                return Err(EngineError::Internal {
                    reason: format!(
                        "cannot instantiate {component_id} on the mock: it was compiled by \
                         another backend"
                    ),
                });
            }
        };
        let (inner, roles) = match &compiled.model {
            Some(model) => {
                let inst = self
                    .v2
                    .instantiate(model, v2::ComponentId::new(component_id.to_string()))
                    .map_err(|e| EngineError::InstantiationFailed {
                        component_id,
                        reason: e.to_string(),
                    })?;
                let roles = v2::ComponentInvoker::roles(&inst);
                (MockInstance::Model(inst), roles)
            }
            None => (
                MockInstance::Canned(Canned {
                    fuel: MOCK_FUEL,
                    calls: 0,
                }),
                [
                    v2::Role::Lifecycle,
                    v2::Role::Processor,
                    v2::Role::Source,
                    v2::Role::Sink,
                ]
                .into_iter()
                .collect(),
            ),
        };
        Ok(ComponentInstance {
            component_id,
            inner: InstanceCell::new(ComponentInstanceInner::Mock(Box::new(inner))),
            has_lifecycle: roles.contains(v2::Role::Lifecycle),
            has_processor: roles.contains(v2::Role::Processor),
            has_source: roles.contains(v2::Role::Source),
            has_sink: roles.contains(v2::Role::Sink),
            last_invocation: None,
        })
    }

    fn set_fuel(&self, instance: &mut ComponentInstance, fuel: u64) -> Result<(), EngineError> {
        let id = instance.component_id;
        match instance.inner.get_mut() {
            ComponentInstanceInner::Mock(m) => match &mut **m {
                MockInstance::Model(inst) => {
                    self.v2
                        .set_fuel(inst, fuel)
                        .map_err(|e| EngineError::Internal {
                            reason: format!("cannot set the fuel of {id}: {e}"),
                        })
                }
                MockInstance::Canned(c) => {
                    c.fuel = fuel;
                    Ok(())
                }
            },
            #[allow(unreachable_patterns)]
            _ => Err(EngineError::Internal {
                reason: format!("{id} is not a mock instance: use the engine that created it"),
            }),
        }
    }

    fn fuel_remaining(&self, instance: &ComponentInstance) -> Option<u64> {
        with_mock(instance, |m| match m {
            MockInstance::Model(inst) => self.v2.fuel_remaining(inst),
            MockInstance::Canned(c) => Some(c.fuel),
        })
        .flatten()
    }

    fn memory_usage(&self, instance: &ComponentInstance) -> usize {
        with_mock(instance, |m| match m {
            MockInstance::Model(inst) => {
                usize::try_from(self.v2.memory_usage(inst)).unwrap_or(usize::MAX)
            }
            MockInstance::Canned(_) => 0,
        })
        .unwrap_or(0)
    }
}

/// The mock's invoker: calls models through 0.2's mock, answers canned
/// instances as 0.1.1 did, and holds the bytes behind the flow's payload
/// handles.
pub struct MockInvoker {
    invocation_count: AtomicU64,
    payloads: Payloads,
}

impl MockInvoker {
    /// An invoker with an empty payload table.
    pub fn new() -> Self {
        Self {
            invocation_count: AtomicU64::new(0),
            payloads: Payloads::new(),
        }
    }

    /// Calls made through this invoker, every function counted.
    pub fn invocation_count(&self) -> u64 {
        self.invocation_count.load(Ordering::Relaxed)
    }

    /// The invoker's payload table (see
    /// [`crate::WasmtimeInvoker::payloads`]). New in 0.1.2.
    pub fn payloads(&self) -> &Payloads {
        &self.payloads
    }
}

impl Default for MockInvoker {
    fn default() -> Self {
        Self::new()
    }
}

/// As [`crate::WasmtimeInvoker`]'s: the handles still held go with it.
impl Drop for MockInvoker {
    fn drop(&mut self) {
        self.payloads.release_all();
    }
}

fn not_mock(component_id: ComponentId) -> ProcessError {
    ProcessError::Internal(format!(
        "MockInvoker called with {component_id}, an instance of another backend: call it with \
         that backend's invoker"
    ))
}

/// What a canned call costs: nothing but a count.
fn canned_call(
    c: &mut Canned,
    last: &mut Option<InvocationResult>,
    component_id: ComponentId,
    function_name: &'static str,
) -> u64 {
    c.calls += 1;
    *last = Some(InvocationResult {
        component_id,
        function_name,
        fuel_consumed: 0,
        duration_ns: 0,
        success: true,
    });
    c.calls - 1
}

/// Runs `$model` with `$call` on a model instance, or `$canned` with `$c`
/// on a canned one.
macro_rules! on_mock {
    ($self:ident, $instance:ident, $id:ident, |$call:ident| $model:expr, |$c:ident, $last:ident| $canned:expr) => {{
        $self.invocation_count.fetch_add(1, Ordering::Relaxed);
        let ComponentInstance {
            inner,
            last_invocation: $last,
            ..
        } = $instance;
        #[allow(irrefutable_let_patterns)]
        let ComponentInstanceInner::Mock(m) = inner.get_mut() else {
            return Err(not_mock($id));
        };
        match &mut **m {
            MockInstance::Model(inst) => {
                let $call = Call {
                    instance: inst,
                    payloads: &$self.payloads,
                    component_id: $id,
                    last: $last,
                };
                $model
            }
            MockInstance::Canned($c) => $canned,
        }
    }};
}

#[async_trait]
impl ComponentInvoker for MockInvoker {
    async fn invoke_pull(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
    ) -> Result<Option<OutputElement>, ProcessError> {
        on_mock!(
            self,
            instance,
            component_id,
            |call| call.pull().await,
            |c, last| {
                let seq = canned_call(c, last, component_id, "pull");
                Ok(Some(OutputElement {
                    meta: ElementMeta::new(seq, seq * 1000, "application/octet-stream".into()),
                    payload: self.payloads.insert(Bytes::new()),
                }))
            }
        )
    }

    async fn invoke_process(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<ProcessResult, ProcessError> {
        on_mock!(
            self,
            instance,
            component_id,
            |call| call.process(element).await,
            |c, last| {
                canned_call(c, last, component_id, "process");
                Ok(ProcessResult::Output(OutputElement {
                    meta: element.meta,
                    payload: element.payload,
                }))
            }
        )
    }

    async fn invoke_push(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        element: StreamElement,
    ) -> Result<BackpressureSignal, ProcessError> {
        on_mock!(
            self,
            instance,
            component_id,
            |call| call.push(element).await,
            |c, last| {
                canned_call(c, last, component_id, "push");
                // The canned sink consumes what it is given (0.1.1's
                // handles, which name no bytes here, are left alone).
                self.payloads.take(element.payload);
                Ok(BackpressureSignal::Ready)
            }
        )
    }

    async fn invoke_init(
        &self,
        instance: &mut ComponentInstance,
        component_id: ComponentId,
        config: &str,
    ) -> Result<(), ProcessError> {
        if !instance.has_lifecycle {
            self.invocation_count.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        on_mock!(
            self,
            instance,
            component_id,
            |call| call.init(config).await,
            |c, last| {
                canned_call(c, last, component_id, "init");
                Ok(())
            }
        )
    }

    async fn invoke_teardown(&self, instance: &mut ComponentInstance, component_id: ComponentId) {
        if !instance.has_lifecycle {
            self.invocation_count.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let outcome: Result<(), ProcessError> = async {
            on_mock!(
                self,
                instance,
                component_id,
                |call| call.teardown().await,
                |c, last| {
                    canned_call(c, last, component_id, "teardown");
                    Ok(())
                }
            )
        }
        .await;
        if let Err(e) = outcome {
            #[cfg(feature = "tracing-support")]
            tracing::warn!(component_id = %component_id, error = %e, "component teardown failed");
            let _ = e;
        }
    }
}
