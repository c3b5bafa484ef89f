//! [`WasmtimeEngine`]: 0.2's Wasmtime backend behind the 0.1 [`WasmEngine`]
//! trait (feature `wasmtime-backend`, on by default).
//!
//! Compiling links the component against WASI p2 and the contract's host
//! interfaces once; [`WasmtimeEngine::imports`] names those bindings for
//! [`WasmEngine::instantiate`]. Each instance has its own store, fuel per
//! call, a deadline per call and memory limits (see
//! [`crate::WasmtimeEngineConfig::to_v2`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use torvyn_types::ComponentId;
use v2::WasmEngine as _;

use crate::config::WasmtimeEngineConfig;
use crate::error::EngineError;
use crate::traits::WasmEngine;
use crate::types::{
    CompiledComponent, CompiledComponentInner, ComponentInstance, ComponentInstanceInner,
    ImportBindings, ImportBindingsInner, InstanceCell,
};

/// Numbers engines, so bindings are only used with the engine that made
/// them.
static NEXT_ENGINE: AtomicU64 = AtomicU64::new(1);

/// A Wasmtime-backed engine: 0.2's [`v2::wasmtime::WasmtimeEngine`] behind the 0.1
/// API.
///
/// ```no_run
/// use torvyn_engine::{WasmtimeEngine, WasmtimeEngineConfig};
///
/// let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
/// let imports = engine.imports(); // WASI p2 and torvyn:streaming, nothing granted
/// # Ok::<(), torvyn_engine::EngineError>(())
/// ```
pub struct WasmtimeEngine {
    engine: v2::wasmtime::WasmtimeEngine,
    config: WasmtimeEngineConfig,
    id: u64,
    outputs: GuestOutputs,
}

impl WasmtimeEngine {
    /// An engine with `config` (mapped onto 0.2's configuration as
    /// [`WasmtimeEngineConfig::to_v2`] says).
    ///
    /// # Errors
    /// [`EngineError::Internal`] listing every problem, 0.1's checks
    /// ([`WasmtimeEngineConfig::validate`]) first, then 0.2's.
    pub fn new(config: WasmtimeEngineConfig) -> Result<Self, EngineError> {
        let problems = config.validate();
        if !problems.is_empty() {
            return Err(EngineError::Internal {
                reason: format!("invalid engine configuration: {}", problems.join("; ")),
            });
        }
        let engine = v2::wasmtime::WasmtimeEngine::new(config.to_v2()).map_err(|e| {
            EngineError::Internal {
                reason: e.to_string(),
            }
        })?;
        Ok(Self::wrap(engine, config))
    }

    /// The 0.1 API over an engine configured with 0.2's configuration:
    /// deadlines, unknown imports, the pooling allocator, a virtual clock...
    /// what [`WasmtimeEngineConfig`] has no field for.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use torvyn_engine::{v2, WasmtimeEngine, WasmtimeEngineConfig};
    ///
    /// let mut config = WasmtimeEngineConfig::default().to_v2();
    /// config.limits.call_deadline = Some(Duration::from_millis(500));
    /// config.unknown_imports = v2::wasmtime::UnknownImports::Trap;
    /// let engine = WasmtimeEngine::from_v2(v2::wasmtime::WasmtimeEngine::new(config)?);
    /// # Ok::<(), v2::EngineError>(())
    /// ```
    pub fn from_v2(engine: v2::wasmtime::WasmtimeEngine) -> Self {
        let config = WasmtimeEngineConfig::from_v2(engine.config());
        Self::wrap(engine, config)
    }

    fn wrap(engine: v2::wasmtime::WasmtimeEngine, config: WasmtimeEngineConfig) -> Self {
        let cap = engine.config().max_captured_output;
        Self {
            engine,
            config,
            id: NEXT_ENGINE.fetch_add(1, Ordering::Relaxed),
            outputs: GuestOutputs::new(cap),
        }
    }

    /// The Wasmtime engine underneath (Wasmtime 48; 0.1.1's was
    /// Wasmtime 42).
    #[inline]
    pub fn inner(&self) -> &wasmtime::Engine {
        self.engine.wasmtime_engine()
    }

    /// The configuration (for an engine made with
    /// [`WasmtimeEngine::from_v2`], the closest 0.1 one).
    #[inline]
    pub fn config(&self) -> &WasmtimeEngineConfig {
        &self.config
    }

    /// The bindings to instantiate with: WASI p2 with nothing granted (no
    /// files, no network, no environment; stdout and stderr captured, see
    /// [`WasmtimeEngine::guest_output`]) and the contract's host interfaces
    /// (`torvyn:streaming` types and buffer allocator,
    /// `torvyn:capabilities` answering no). New in 0.1.2: 0.1.1 had no
    /// public way to make Wasmtime bindings.
    pub fn imports(&self) -> ImportBindings {
        ImportBindings {
            inner: ImportBindingsInner::Wasmtime { engine: self.id },
        }
    }

    /// The 0.2 engine underneath.
    #[inline]
    pub fn v2(&self) -> &v2::wasmtime::WasmtimeEngine {
        &self.engine
    }

    /// What this engine's instances wrote to stdout and stderr.
    #[inline]
    pub fn guest_output(&self) -> &GuestOutputs {
        &self.outputs
    }
}

impl std::fmt::Debug for WasmtimeEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmtimeEngine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl WasmEngine for WasmtimeEngine {
    fn compile_component(&self, bytes: &[u8]) -> Result<CompiledComponent, EngineError> {
        let compiled = self
            .engine
            .compile(bytes)
            .map_err(|e| EngineError::CompilationFailed {
                reason: e.to_string(),
                source_hint: None,
            })?;
        Ok(CompiledComponent {
            inner: CompiledComponentInner::Wasmtime(compiled),
        })
    }

    fn serialize_component(&self, compiled: &CompiledComponent) -> Result<Vec<u8>, EngineError> {
        match &compiled.inner {
            CompiledComponentInner::Wasmtime(c) => {
                self.engine.serialize(c).map_err(|e| EngineError::Internal {
                    reason: e.to_string(),
                })
            }
            #[allow(unreachable_patterns)]
            _ => Err(EngineError::Internal {
                reason: "cannot serialize a component compiled by another backend (the mock): \
                         serialize it with the engine that compiled it"
                    .into(),
            }),
        }
    }

    unsafe fn deserialize_component(
        &self,
        bytes: &[u8],
    ) -> Result<Option<CompiledComponent>, EngineError> {
        // SAFETY: the caller guarantees what `v2::WasmEngine::deserialize`
        // requires (the same contract as this method's).
        match unsafe { self.engine.deserialize(bytes) } {
            Ok(c) => Ok(Some(CompiledComponent {
                inner: CompiledComponentInner::Wasmtime(c),
            })),
            Err(v2::EngineError::IncompatibleArtifact(_)) => Ok(None),
            Err(e) => Err(EngineError::DeserializationFailed {
                reason: e.to_string(),
            }),
        }
    }

    async fn instantiate(
        &self,
        compiled: &CompiledComponent,
        imports: ImportBindings,
        component_id: ComponentId,
    ) -> Result<ComponentInstance, EngineError> {
        #[allow(unreachable_patterns)]
        let compiled = match &compiled.inner {
            CompiledComponentInner::Wasmtime(c) => c,
            _ => {
                return Err(EngineError::Internal {
                    reason: format!(
                        "cannot instantiate {component_id}: it was compiled by another backend \
                         (the mock); compile it with this engine"
                    ),
                });
            }
        };
        #[allow(unreachable_patterns)]
        match imports.inner {
            ImportBindingsInner::Wasmtime { engine } if engine == self.id => {}
            ImportBindingsInner::Wasmtime { .. } => {
                return Err(EngineError::Internal {
                    reason: format!(
                        "cannot instantiate {component_id} with another Wasmtime engine's import \
                         bindings: pass this engine's `imports()`"
                    ),
                });
            }
            _ => {
                return Err(EngineError::Internal {
                    reason: format!(
                        "cannot instantiate {component_id} with {imports:?} on the Wasmtime \
                         backend: pass the engine's `imports()`"
                    ),
                });
            }
        }
        let instance = self
            .engine
            .instantiate(compiled, v2::ComponentId::new(component_id.to_string()))
            .map_err(|e| EngineError::InstantiationFailed {
                component_id,
                reason: e.to_string(),
            })?;
        let roles = v2::ComponentInvoker::roles(&instance);
        Ok(ComponentInstance {
            component_id,
            inner: InstanceCell::new(ComponentInstanceInner::Wasmtime(Box::new(
                WasmtimeInstance {
                    invoker: instance,
                    outputs: self.outputs.clone(),
                    component_id,
                },
            ))),
            has_lifecycle: roles.contains(v2::Role::Lifecycle),
            has_processor: roles.contains(v2::Role::Processor),
            has_source: roles.contains(v2::Role::Source),
            has_sink: roles.contains(v2::Role::Sink),
            last_invocation: None,
        })
    }

    fn set_fuel(&self, instance: &mut ComponentInstance, fuel: u64) -> Result<(), EngineError> {
        let inst = wasmtime_instance(instance)?;
        self.engine
            .set_fuel(&mut inst.invoker, fuel)
            .map_err(|e| EngineError::Internal {
                reason: format!("cannot set the fuel of {}: {e}", inst.component_id),
            })
    }

    fn fuel_remaining(&self, instance: &ComponentInstance) -> Option<u64> {
        instance.inner.with(|inner| match inner {
            ComponentInstanceInner::Wasmtime(inst) => self.engine.fuel_remaining(&inst.invoker),
            #[allow(unreachable_patterns)]
            _ => None,
        })
    }

    fn memory_usage(&self, instance: &ComponentInstance) -> usize {
        instance.inner.with(|inner| match inner {
            ComponentInstanceInner::Wasmtime(inst) => {
                usize::try_from(self.engine.memory_usage(&inst.invoker)).unwrap_or(usize::MAX)
            }
            #[allow(unreachable_patterns)]
            _ => 0,
        })
    }
}

fn wasmtime_instance(
    instance: &mut ComponentInstance,
) -> Result<&mut WasmtimeInstance, EngineError> {
    match instance.inner.get_mut() {
        ComponentInstanceInner::Wasmtime(inst) => Ok(inst),
        #[allow(unreachable_patterns)]
        _ => Err(EngineError::Internal {
            reason: format!(
                "{} is not a Wasmtime instance: use the engine that created it",
                instance.component_id
            ),
        }),
    }
}

/// A live 0.2 instance and where its output goes.
pub(crate) struct WasmtimeInstance {
    pub invoker: v2::wasmtime::WasmtimeInvoker,
    outputs: GuestOutputs,
    pub component_id: ComponentId,
}

impl WasmtimeInstance {
    /// Moves what the guest wrote so far into the engine's log.
    pub fn collect_output(&mut self) {
        let stdout = self.invoker.take_stdout();
        let stderr = self.invoker.take_stderr();
        if !stdout.bytes.is_empty()
            || !stderr.bytes.is_empty()
            || stdout.discarded + stderr.discarded > 0
        {
            self.outputs.append(self.component_id, stdout, stderr);
        }
    }
}

impl Drop for WasmtimeInstance {
    fn drop(&mut self) {
        self.collect_output();
    }
}

/// What an engine's instances wrote to stdout and stderr, per component id:
/// collected after each call, kept up to the engine's
/// `max_captured_output` bytes per stream and instance (64 KiB by
/// default), the rest counted and discarded. Cheap to clone; clones share
/// the log.
///
/// 0.1.1 linked no WASI, so a guest that printed could not run at all.
#[derive(Clone)]
pub struct GuestOutputs {
    log: Arc<Mutex<BTreeMap<ComponentId, Captured>>>,
    cap: usize,
}

#[derive(Default)]
struct Captured {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    discarded: u64,
}

impl GuestOutputs {
    fn new(cap: usize) -> Self {
        Self {
            log: Arc::default(),
            cap,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<ComponentId, Captured>> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, id: ComponentId, stdout: v2::GuestOutput, stderr: v2::GuestOutput) {
        let mut log = self.lock();
        let c = log.entry(id).or_default();
        c.discarded += stdout.discarded + stderr.discarded;
        for (kept, mut more) in [(&mut c.stdout, stdout.bytes), (&mut c.stderr, stderr.bytes)] {
            let room = self.cap.saturating_sub(kept.len());
            if more.len() > room {
                c.discarded += (more.len() - room) as u64;
                more.truncate(room);
            }
            kept.extend_from_slice(&more);
        }
    }

    /// What instance `id` wrote to stdout (kept bytes).
    pub fn stdout(&self, id: ComponentId) -> Vec<u8> {
        self.lock()
            .get(&id)
            .map(|c| c.stdout.clone())
            .unwrap_or_default()
    }

    /// What instance `id` wrote to stderr (kept bytes).
    pub fn stderr(&self, id: ComponentId) -> Vec<u8> {
        self.lock()
            .get(&id)
            .map(|c| c.stderr.clone())
            .unwrap_or_default()
    }

    /// Bytes instance `id` wrote past the cap, counted and discarded.
    pub fn discarded(&self, id: ComponentId) -> u64 {
        self.lock().get(&id).map_or(0, |c| c.discarded)
    }

    /// Forgets what every instance wrote.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

impl std::fmt::Debug for GuestOutputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let log = self.lock();
        f.debug_map()
            .entries(log.iter().map(|(id, c)| {
                (
                    id,
                    format!(
                        "{} bytes of stdout, {} of stderr",
                        c.stdout.len(),
                        c.stderr.len()
                    ),
                )
            }))
            .finish()
    }
}
