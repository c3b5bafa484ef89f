//! [`MockBackend`]: the harness on the mock engine. A fixture name runs
//! the fixture's model (`torvyn_engine::mock::models`); a `mock:` section
//! in a scenario or pipeline stage runs a scripted component
//! ([`torvyn_engine::mock::MockSpec`]). WebAssembly files are refused with a
//! message that says which backend runs them.
//!
//! Built in every configuration of the harness: it compiles no Wasmtime.

use std::sync::atomic::{AtomicU64, Ordering};

use torvyn_engine::mock::{JournalMode, MockCompiled, MockEngine, MockEngineConfig, models};
use torvyn_engine::{Clock, WasmEngine};

use super::{EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::source::ComponentSource;
use crate::spec::BackendKind;

/// The mock backend: a fresh [`MockEngine`] per run with a model of every
/// benign fixture registered, the clock the settings say, and no journal
/// (the run's transcript records every call).
#[derive(Clone)]
pub struct MockBackend {
    engine: MockEngine,
    scripted: std::sync::Arc<AtomicU64>,
}

impl std::fmt::Debug for MockBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockBackend")
            .field("models", &models::NAMES)
            .finish_non_exhaustive()
    }
}

impl MockBackend {
    /// A mock engine with the default limits (the Wasmtime backend's), the
    /// clock `settings` say, and every random choice (the instances'
    /// streams, fault probabilities) drawn from their seed.
    pub fn new(settings: &EngineSettings) -> Result<Self, HarnessError> {
        Self::with_config(
            MockEngineConfig {
                journal: JournalMode::Off,
                limits: settings.limits(),
                ..MockEngineConfig::seeded(settings.seed)
            },
            settings,
        )
    }

    /// A mock engine with `config` and the clock `settings` say, with
    /// every fixture model registered.
    pub fn with_config(
        config: MockEngineConfig,
        settings: &EngineSettings,
    ) -> Result<Self, HarnessError> {
        let clock = settings.new_clock();
        let engine = MockEngine::with_clock(config, clock)
            .map_err(|source| HarnessError::engine("create an engine for", "<engine>", source))?;
        Ok(Self::from_engine(engine))
    }

    /// A backend over a mock engine made elsewhere (its configuration,
    /// clock and registry as they are), with every fixture model
    /// registered in it.
    pub fn from_engine(engine: MockEngine) -> Self {
        engine.register_models();
        Self {
            engine,
            scripted: Default::default(),
        }
    }

    /// The mock engine (its journal, its registry).
    pub fn mock(&self) -> &MockEngine {
        &self.engine
    }

    fn unsupported(&self, label: &str, what: String) -> HarnessError {
        HarnessError::Unsupported {
            component: label.to_string(),
            problem: format!(
                "{what}; the mock backend runs the models of the fixtures {} and scripted \
                 components (a `mock:` section in the scenario or stage); run it with \
                 `--backend wasmtime` (or `backend: wasmtime`)",
                models::NAMES.join(", ")
            ),
        }
    }
}

impl SimBackend for MockBackend {
    type Engine = MockEngine;

    const KIND: BackendKind = BackendKind::Mock;

    fn new(settings: &EngineSettings) -> Result<Self, HarnessError> {
        MockBackend::new(settings)
    }

    fn engine(&self) -> &MockEngine {
        &self.engine
    }

    fn clock(&self) -> &Clock {
        self.engine.clock()
    }

    fn compile(&self, source: &ComponentSource, label: &str) -> Result<MockCompiled, HarnessError> {
        let name = match source {
            // A fixture's model, or a component the host registered in
            // the engine ([`MockBackend::from_engine`]) under that name.
            ComponentSource::Fixture(name)
                if models::NAMES.contains(&name.as_str()) || self.engine.is_registered(name) =>
            {
                name.clone()
            }
            ComponentSource::Fixture(name) => {
                return Err(self.unsupported(label, format!("the mock has no model of `{name}`")));
            }
            ComponentSource::Wat(path) | ComponentSource::Wasm(path) => {
                return Err(self.unsupported(
                    label,
                    format!(
                        "{} is WebAssembly, which the mock does not run",
                        path.display()
                    ),
                ));
            }
            ComponentSource::Scripted(spec) => {
                // A registry name of its own, so two stages with the same
                // component name and different scripts do not collide.
                let n = self.scripted.fetch_add(1, Ordering::Relaxed);
                let name = format!("{label}#scripted-{n}");
                let component =
                    spec.component(&name)
                        .map_err(|problem| HarnessError::InvalidScenario {
                            scenario: label.to_string(),
                            problem: format!("`mock:` {problem}"),
                        })?;
                self.engine.register(component);
                name
            }
        };
        self.engine
            .compile(&MockEngine::component_bytes(&name))
            .map_err(|source| HarnessError::engine("compile", label, source))
    }
}
