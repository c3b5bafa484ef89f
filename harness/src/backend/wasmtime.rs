//! [`WasmtimeBackend`]: the harness on the Wasmtime engine. Fixtures and
//! `.wat` files go through the fixture loader (componentized like
//! `wasm-tools component new`), `.wasm` components are read as they are,
//! and guest stdout and stderr are captured per call.

use torvyn_engine::wasmtime::{UnknownImports, WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{Clock, GuestOutput, RandomSource, WasmtimeCompiled, WasmtimeInvoker};

use super::{BackendKind, EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::scenario::ComponentSource;

/// The Wasmtime backend: a fresh [`WasmtimeEngine`] per run.
#[derive(Clone)]
pub struct WasmtimeBackend {
    engine: WasmtimeEngine,
}

impl std::fmt::Debug for WasmtimeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmtimeBackend")
            .field("strategy", &self.engine.config().strategy)
            .finish_non_exhaustive()
    }
}

impl WasmtimeBackend {
    /// An engine with the default configuration, changed as `settings`
    /// say: compiler, clock, seeded WASI randomness.
    pub fn new(settings: &EngineSettings) -> Result<Self, HarnessError> {
        let config = WasmtimeEngineConfig {
            random: RandomSource::Seeded(settings.seed),
            unknown_imports: if settings.stub_unknown_imports {
                UnknownImports::Trap
            } else {
                UnknownImports::Refuse
            },
            ..WasmtimeEngineConfig::with_strategy(settings.strategy.compilation())
        };
        Self::with_config(config, settings)
    }

    /// An engine with `config` (its strategy and randomness are kept)
    /// and the clock `settings` say.
    pub fn with_config(
        config: WasmtimeEngineConfig,
        settings: &EngineSettings,
    ) -> Result<Self, HarnessError> {
        let clock = settings.new_clock();
        let engine = WasmtimeEngine::with_clock(config, clock)
            .map_err(|source| HarnessError::engine("create an engine for", "<engine>", source))?;
        Ok(Self { engine })
    }

    /// A backend over an engine made elsewhere (its configuration and
    /// clock as they are).
    pub fn from_engine(engine: WasmtimeEngine) -> Self {
        Self { engine }
    }

    /// The engine.
    pub fn wasmtime(&self) -> &WasmtimeEngine {
        &self.engine
    }

    /// Compiles component `bytes` read from `origin`; `label` names the
    /// component in errors.
    pub fn compile_bytes(
        &self,
        bytes: &[u8],
        origin: &str,
        label: &str,
    ) -> Result<WasmtimeCompiled, HarnessError> {
        self.engine
            .compile_named(bytes, origin)
            .map_err(|source| HarnessError::engine("compile", label, source))
    }
}

impl SimBackend for WasmtimeBackend {
    type Engine = WasmtimeEngine;

    const KIND: BackendKind = BackendKind::Wasmtime;

    fn new(settings: &EngineSettings) -> Result<Self, HarnessError> {
        WasmtimeBackend::new(settings)
    }

    fn engine(&self) -> &WasmtimeEngine {
        &self.engine
    }

    fn clock(&self) -> &Clock {
        self.engine.clock()
    }

    fn compile(
        &self,
        source: &ComponentSource,
        label: &str,
    ) -> Result<WasmtimeCompiled, HarnessError> {
        if let ComponentSource::Scripted(_) = source {
            return Err(HarnessError::Unsupported {
                component: label.to_string(),
                problem: "it is a scripted mock component (a `mock:` section): only the mock \
                          backend runs it; set `backend: mock` or pass `--backend mock`"
                    .into(),
            });
        }
        let (bytes, origin) = source.load(label)?;
        self.compile_bytes(&bytes, &origin, label)
    }

    fn take_output(&self, instance: &mut WasmtimeInvoker) -> (GuestOutput, GuestOutput) {
        (instance.take_stdout(), instance.take_stderr())
    }
}
