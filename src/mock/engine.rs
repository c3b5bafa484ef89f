//! [`MockEngine`]: the cold path of the mock backend.
//!
//! Cold path. Components are registered as [`MockComponent`]s; "compiling"
//! looks one up from its mock binary ([`MockEngine::component_bytes`]) or its
//! name, serializing produces a small checkable artifact (magic, engine
//! fingerprint, name), and every operation can be told to fail
//! ([`ColdFaults`]).

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use super::faults::{ColdFaults, ColdOp, CostModel, DeserializeFailure, FailOn, FaultState};
use super::invoker::MockInvoker;
use super::journal::{Journal, JournalMode};
use super::model::MockComponent;
use crate::clock::{Clock, VirtualTime};
use crate::config::{Limits, problems_to_result};
use crate::error::{ConfigProblem, EngineError};
use crate::instance::InstanceOptions;
use crate::random::RandomSource;
use crate::traits::WasmEngine;
use crate::types::ComponentId;

const COMPONENT_MAGIC: &[u8] = b"\0torvyn-mock-component\0";
/// A mock artifact: this magic, the engine's 32-byte fingerprint, the
/// component's name, then the name's length and its FNV-1a checksum (8 bytes
/// each, little-endian), so that a truncated or damaged artifact is told
/// from a valid one of a component this engine does not know.
const ARTIFACT_MAGIC: &[u8] = b"\0torvyn-mock-artifact-2\0";

/// Configuration of a [`MockEngine`]. The [`Limits`] are the same type,
/// with the same defaults and the same validation, as the Wasmtime
/// backend's (`WasmtimeEngineConfig::limits`).
#[derive(Clone, Debug, Default)]
pub struct MockEngineConfig {
    /// Fuel (modelled), deadline, simulated memory, host buffers and
    /// resources. The mock enforces deadlines through fuel on a virtual
    /// clock; on the system clock only a scripted deadline fault ends a
    /// call.
    pub limits: Limits,
    /// The fuel each call consumes.
    pub cost: CostModel,
    /// What the journal keeps.
    pub journal: JournalMode,
    /// Injected cold-path failures.
    pub faults: ColdFaults,
    /// Where the instances' random streams ([`super::MockCtx::random_u64`])
    /// come from; with [`RandomSource::Seeded`] each instance's stream
    /// depends only on the seed and its id.
    pub random: RandomSource,
}

impl MockEngineConfig {
    /// The default configuration with every random choice drawn from
    /// `seed`: the instances' random streams and the fault schedule's
    /// probabilities.
    pub fn seeded(seed: u64) -> Self {
        Self {
            random: RandomSource::Seeded(seed),
            faults: ColdFaults {
                seed,
                ..ColdFaults::default()
            },
            ..Self::default()
        }
    }

    /// Checks the configuration and lists every problem found: the
    /// [`Limits`]' (named and worded as for the Wasmtime backend), a
    /// probability outside 0..=1 in the fault schedule, and a bounded
    /// journal that would keep nothing.
    pub fn validate(&self) -> Result<(), EngineError> {
        let mut problems = Vec::new();
        self.check(&mut problems);
        problems_to_result(problems)
    }

    fn check(&self, problems: &mut Vec<ConfigProblem>) {
        self.limits.check(problems);
        let f = &self.faults;
        for (field, rule) in [
            ("faults.compile", f.compile),
            ("faults.deserialize", f.deserialize),
            ("faults.instantiate", f.instantiate),
            ("faults.init", f.init),
        ] {
            if let FailOn::Probability(p) = rule
                && !(0.0..=1.0).contains(&p)
            {
                problems.push(ConfigProblem {
                    field,
                    problem: format!("the probability {p} is outside 0.0..=1.0"),
                });
            }
        }
        if matches!(
            self.journal,
            JournalMode::Bounded(0) | JournalMode::WithOutputs(Some(0))
        ) {
            problems.push(ConfigProblem {
                field: "journal",
                problem: "keeps at most 0 entries; use JournalMode::Off to keep none".into(),
            });
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
    /// An engine on the system clock. An invalid configuration is refused
    /// with [`EngineError::InvalidConfig`] listing every problem, as
    /// `WasmtimeEngine::new` refuses one.
    pub fn new(config: MockEngineConfig) -> Result<Self, EngineError> {
        Self::with_clock(config, Clock::system())
    }

    /// An engine reading `clock` (use the same virtual clock as a Wasmtime
    /// engine to compare the two). A virtual clock needs fuel metering on:
    /// it advances by fuel, so without it no deadline could ever fire.
    pub fn with_clock(config: MockEngineConfig, clock: Clock) -> Result<Self, EngineError> {
        let mut problems = Vec::new();
        config.check(&mut problems);
        config.limits.check_clock(&clock, &mut problems);
        problems_to_result(problems)?;
        Ok(Self {
            inner: Arc::new(MockInner {
                journal: Journal::new(config.journal),
                faults: FaultState::new(config.faults),
                config,
                clock,
                registry: RwLock::default(),
            }),
        })
    }

    /// A deterministic engine in one call: the default configuration
    /// seeded with `seed` ([`MockEngineConfig::seeded`]: the instances'
    /// random streams and the fault schedule's probabilities) on a fresh
    /// virtual clock with the default [`VirtualTime`]. The same seed and the
    /// same calls give the same outcomes, metrics, journal and times.
    pub fn deterministic(seed: u64) -> Self {
        Self::with_clock(
            MockEngineConfig::seeded(seed),
            Clock::virtual_time(VirtualTime::default()),
        )
        .expect("the default configuration is valid on a virtual clock")
    }

    /// An engine (see [`MockEngine::with_clock`]) with every model of the
    /// benign fixtures registered ([`super::models::all`], named in
    /// [`super::models::NAMES`]).
    pub fn with_models(config: MockEngineConfig, clock: Clock) -> Result<Self, EngineError> {
        let engine = Self::with_clock(config, clock)?;
        engine.register_models();
        Ok(engine)
    }

    /// Registers every model of the benign fixtures
    /// ([`super::models::all`]).
    pub fn register_models(&self) -> &Self {
        for component in super::models::all() {
            self.register(component);
        }
        self
    }

    /// Whether a component named `name` is registered.
    pub fn is_registered(&self, name: &str) -> bool {
        self.inner
            .registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(name)
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

    fn lookup(&self, name: &str) -> Result<MockCompiled, EngineError> {
        let registry = self
            .inner
            .registry
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        match registry.get(name) {
            Some(c) => Ok(MockCompiled {
                component: c.clone(),
            }),
            None => Err(EngineError::NotRegistered {
                name: name.to_owned(),
                registered: if registry.is_empty() {
                    "none".to_owned()
                } else {
                    registry.keys().cloned().collect::<Vec<_>>().join(", ")
                },
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
        self.lookup(&String::from_utf8_lossy(name))
    }

    /// The mock reads the text as the name of a registered component. It
    /// runs models, not WebAssembly: WAT text (a module or component) is
    /// refused with an error that says so.
    fn compile_wat(&self, text: &str) -> Result<MockCompiled, EngineError> {
        self.injected(ColdOp::Compile, "<mock wat>")?;
        let name = text.trim();
        if looks_like_wat(name) {
            return Err(EngineError::Unsupported(format!(
                "the mock backend runs registered models, not WebAssembly: `compile_wat` takes a \
                 model's name here, not WAT text (`{}`...). Run WAT on the Wasmtime backend, or \
                 register a model of it (`MockEngine::register`) and compile its name",
                name.chars().take(24).collect::<String>()
            )));
        }
        self.lookup(name)
    }

    fn serialize(&self, compiled: &MockCompiled) -> Result<Vec<u8>, EngineError> {
        let name = compiled.component.name.as_bytes();
        Ok([
            ARTIFACT_MAGIC,
            &self.fingerprint(),
            name,
            &(name.len() as u64).to_le_bytes(),
            &super::journal::name_checksum(name).to_le_bytes(),
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
        let truncated = || EngineError::CorruptArtifact("the artifact is truncated".into());
        let (fingerprint, rest) = rest.split_first_chunk::<32>().ok_or_else(truncated)?;
        let (name, check) = rest.split_last_chunk::<16>().ok_or_else(truncated)?;
        let (len, sum) = check.split_at(8);
        if len != (name.len() as u64).to_le_bytes() {
            return Err(truncated());
        }
        if sum != super::journal::name_checksum(name).to_le_bytes() {
            return Err(EngineError::CorruptArtifact(
                "the component name does not match its checksum".into(),
            ));
        }
        if fingerprint != &self.fingerprint() {
            return Err(EngineError::IncompatibleArtifact(
                "made by a mock engine with other settings".into(),
            ));
        }
        // A valid artifact of a component this engine does not know: not
        // corrupt, but to be registered (`EngineError::NotRegistered`).
        self.lookup(&String::from_utf8_lossy(name))
    }

    fn instantiate_with(
        &self,
        compiled: &MockCompiled,
        id: ComponentId,
        options: &InstanceOptions,
    ) -> Result<MockInvoker, EngineError> {
        let _span = crate::trace::cold("instantiate", id.as_str());
        if self.inner.faults.should_fail(ColdOp::Instantiate) {
            return Err(EngineError::Instantiate {
                component: id,
                message: "injected failure (mock fault schedule)".into(),
            });
        }
        let limit = self.inner.config.limits.max_memory_bytes;
        if compiled.component.memory.initial > limit {
            return Err(EngineError::Instantiate {
                component: id,
                message: format!(
                    "the component starts with {} bytes of memory, over the {limit}-byte limit",
                    compiled.component.memory.initial
                ),
            });
        }
        let mut instance = MockInvoker::new(
            Arc::clone(&self.inner),
            &compiled.component,
            id,
            options.grants.clone(),
        );
        let plan =
            options.host_faults_for(crate::ComponentInvoker::component_id(&instance).as_str());
        crate::ComponentInvoker::set_host_faults(&mut instance, plan);
        if options.trace_host_calls {
            crate::ComponentInvoker::trace_host_calls(&mut instance, true);
        }
        Ok(instance)
    }

    fn set_fuel(&self, instance: &mut MockInvoker, fuel: u64) -> Result<(), EngineError> {
        crate::invoke::check_fuel(self.inner.config.limits.fuel_enabled, fuel)?;
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
        c.limits.fuel_enabled.hash(&mut h);
        c.limits.max_memory_bytes.hash(&mut h);
        h.digest()
    }
}

/// Whether `text` is WAT rather than a model's name: it opens with a
/// parenthesis or a `;;` comment.
fn looks_like_wat(text: &str) -> bool {
    text.starts_with('(') || text.starts_with(";;")
}
