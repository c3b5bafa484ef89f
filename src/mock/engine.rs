//! [`MockEngine`]: the cold path of the mock backend.
//!
//! Cold path. Components are registered as [`MockComponent`]s; "compiling"
//! looks one up from its mock binary ([`MockEngine::component_bytes`]) or its
//! name, serializing produces a small checkable artifact (magic, engine
//! fingerprint, name), and every operation can be told to fail
//! ([`ColdFaults`]).

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use super::faults::{ColdFaults, ColdOp, CostModel, DeserializeFailure, FaultState};
use super::invoker::MockInvoker;
use super::journal::{Journal, JournalMode};
use super::model::MockComponent;
use crate::clock::Clock;
use crate::error::EngineError;
use crate::host::ResourceLimits;
use crate::traits::WasmEngine;
use crate::types::ComponentId;

const COMPONENT_MAGIC: &[u8] = b"\0torvyn-mock-component\0";
const ARTIFACT_MAGIC: &[u8] = b"\0torvyn-mock-artifact\0";

/// Configuration of a [`MockEngine`]; the limits mean what they mean for
/// the Wasmtime backend, and the defaults are the same.
#[derive(Clone, Debug)]
pub struct MockEngineConfig {
    /// Meter (modelled) fuel.
    pub fuel_enabled: bool,
    /// The fuel each call starts with.
    pub fuel_per_call: u64,
    /// The longest a call may run, on top of the flow context's deadline.
    /// The mock enforces deadlines through fuel on a virtual clock; on the
    /// system clock only a scripted deadline fault ends a call.
    pub call_deadline: Option<Duration>,
    /// The most simulated linear memory an instance may have.
    pub max_memory_bytes: u64,
    /// Host buffers an instance may hold at once, in bytes.
    pub max_buffer_bytes_per_instance: u64,
    /// Host resources an instance may hold at once.
    pub max_host_resources: usize,
    /// The fuel each call consumes.
    pub cost: CostModel,
    /// What the journal keeps.
    pub journal: JournalMode,
    /// Injected cold-path failures.
    pub faults: ColdFaults,
}

impl Default for MockEngineConfig {
    fn default() -> Self {
        let real = crate::config::WasmtimeEngineConfig::default();
        Self {
            fuel_enabled: real.fuel_enabled,
            fuel_per_call: real.fuel_per_call,
            call_deadline: real.call_deadline,
            max_memory_bytes: real.max_memory_bytes,
            max_buffer_bytes_per_instance: real.max_buffer_bytes_per_instance,
            max_host_resources: real.max_host_resources,
            cost: CostModel::default(),
            journal: JournalMode::default(),
            faults: ColdFaults::default(),
        }
    }
}

pub(crate) struct MockInner {
    pub config: MockEngineConfig,
    pub clock: Clock,
    pub journal: Journal,
    pub faults: FaultState,
    registry: RwLock<BTreeMap<String, MockComponent>>,
}

impl MockInner {
    pub fn resource_limits(&self) -> ResourceLimits {
        ResourceLimits {
            max_buffer_bytes: self.config.max_buffer_bytes_per_instance,
            max_resources: self.config.max_host_resources,
        }
    }
}

/// The mock backend's engine. Cheap to clone; clones share the registry,
/// the journal and the fault schedule.
#[derive(Clone)]
pub struct MockEngine {
    inner: Arc<MockInner>,
}

/// A "compiled" mock component.
#[derive(Clone, Debug)]
pub struct MockCompiled {
    pub(crate) component: MockComponent,
}

impl MockCompiled {
    /// The component's roles.
    pub fn roles(&self) -> crate::Roles {
        self.component.roles
    }
}

impl MockEngine {
    /// An engine on the system clock.
    pub fn new(config: MockEngineConfig) -> Self {
        Self::with_clock(config, Clock::system())
    }

    /// An engine reading `clock` (use the same virtual clock as a Wasmtime
    /// engine to compare the two).
    pub fn with_clock(config: MockEngineConfig, clock: Clock) -> Self {
        Self {
            inner: Arc::new(MockInner {
                journal: Journal::new(config.journal),
                faults: FaultState::new(config.faults),
                config,
                clock,
                registry: RwLock::default(),
            }),
        }
    }

    /// Registers `component` under its name (replacing one of that name).
    pub fn register(&self, component: MockComponent) -> &Self {
        self.inner
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(component.name.to_string(), component);
        self
    }

    /// The mock "binary" of a registered component's name, for
    /// [`WasmEngine::compile`].
    pub fn component_bytes(name: &str) -> Vec<u8> {
        [COMPONENT_MAGIC, name.as_bytes()].concat()
    }

    /// The journal of every call the engine's instances made.
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// The engine clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The configuration.
    pub fn config(&self) -> &MockEngineConfig {
        &self.inner.config
    }

    fn lookup(&self, name: &str, origin: &str) -> Result<MockCompiled, EngineError> {
        let registry = self
            .inner
            .registry
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match registry.get(name) {
            Some(c) => Ok(MockCompiled {
                component: c.clone(),
            }),
            None => Err(EngineError::Compile {
                origin: origin.into(),
                message: format!(
                    "no mock component named `{name}` is registered (registered: {}); call \
                     MockEngine::register first",
                    if registry.is_empty() {
                        "none".to_owned()
                    } else {
                        registry.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                ),
            }),
        }
    }

    fn injected(&self, op: ColdOp, origin: &str) -> Result<(), EngineError> {
        if self.inner.faults.should_fail(op) {
            return Err(EngineError::Compile {
                origin: origin.into(),
                message: "injected failure (mock fault schedule)".into(),
            });
        }
        Ok(())
    }
}

impl WasmEngine for MockEngine {
    type Compiled = MockCompiled;
    type Instance = MockInvoker;

    fn compile(&self, bytes: &[u8]) -> Result<MockCompiled, EngineError> {
        let origin = "<mock component bytes>";
        let _span = crate::trace::cold("compile", origin);
        self.injected(ColdOp::Compile, origin)?;
        if bytes.is_empty() {
            return Err(EngineError::Compile {
                origin: origin.into(),
                message: "the input is empty".into(),
            });
        }
        let Some(name) = bytes.strip_prefix(COMPONENT_MAGIC) else {
            return Err(EngineError::Compile {
                origin: origin.into(),
                message: "not a mock component; the mock engine compiles \
                          MockEngine::component_bytes(name) of a registered MockComponent"
                    .into(),
            });
        };
        let name = String::from_utf8_lossy(name);
        self.lookup(&name, origin)
    }

    /// The mock reads the text as the name of a registered component.
    fn compile_wat(&self, text: &str) -> Result<MockCompiled, EngineError> {
        self.injected(ColdOp::Compile, "<mock wat>")?;
        self.lookup(text.trim(), "<mock wat>")
    }

    fn serialize(&self, compiled: &MockCompiled) -> Result<Vec<u8>, EngineError> {
        Ok([
            ARTIFACT_MAGIC,
            &self.fingerprint(),
            compiled.component.name.as_bytes(),
        ]
        .concat())
    }

    unsafe fn deserialize(&self, bytes: &[u8]) -> Result<MockCompiled, EngineError> {
        if self.inner.faults.should_fail(ColdOp::Deserialize) {
            let why = "injected failure (mock fault schedule)".to_owned();
            return Err(match self.inner.faults.faults().deserialize_failure {
                DeserializeFailure::Incompatible => EngineError::IncompatibleArtifact(why),
                DeserializeFailure::Corrupt => EngineError::CorruptArtifact(why),
            });
        }
        let Some(rest) = bytes.strip_prefix(ARTIFACT_MAGIC) else {
            return Err(EngineError::CorruptArtifact(
                "the bytes are not a mock artifact".into(),
            ));
        };
        let Some((fingerprint, name)) = rest.split_first_chunk::<32>() else {
            return Err(EngineError::CorruptArtifact(
                "the artifact is truncated".into(),
            ));
        };
        if fingerprint != &self.fingerprint() {
            return Err(EngineError::IncompatibleArtifact(
                "made by a mock engine with other settings".into(),
            ));
        }
        self.lookup(&String::from_utf8_lossy(name), "<mock artifact>")
            .map_err(|e| EngineError::CorruptArtifact(e.to_string()))
    }

    fn instantiate(
        &self,
        compiled: &MockCompiled,
        id: ComponentId,
    ) -> Result<MockInvoker, EngineError> {
        let _span = crate::trace::cold("instantiate", id.as_str());
        if self.inner.faults.should_fail(ColdOp::Instantiate) {
            return Err(EngineError::Instantiate {
                component: id,
                message: "injected failure (mock fault schedule)".into(),
            });
        }
        if compiled.component.memory.initial > self.inner.config.max_memory_bytes {
            return Err(EngineError::Instantiate {
                component: id,
                message: format!(
                    "the component starts with {} bytes of memory, over the {}-byte limit",
                    compiled.component.memory.initial, self.inner.config.max_memory_bytes
                ),
            });
        }
        Ok(MockInvoker::new(
            Arc::clone(&self.inner),
            &compiled.component,
            id,
        ))
    }

    fn set_fuel(&self, instance: &mut MockInvoker, fuel: u64) -> Result<(), EngineError> {
        crate::invoke::check_fuel(self.inner.config.fuel_enabled, fuel)?;
        instance.set_fuel_budget(fuel);
        Ok(())
    }

    fn fuel_remaining(&self, instance: &MockInvoker) -> Option<u64> {
        instance.fuel_remaining()
    }

    fn memory_usage(&self, instance: &MockInvoker) -> u64 {
        instance.memory_bytes()
    }

    fn fingerprint(&self) -> [u8; 32] {
        use std::hash::Hash;
        let c = &self.inner.config;
        let mut h = crate::cache::FingerprintHasher::new("torvyn-engine/mock");
        env!("CARGO_PKG_VERSION").hash(&mut h);
        c.fuel_enabled.hash(&mut h);
        c.max_memory_bytes.hash(&mut h);
        h.digest()
    }
}
