//! What the scenario runner and the pipeline simulation need from an engine
//! backend: the engine traits, a clock, loading a component, and (where the
//! backend can) the guest's captured stdout and stderr.
//!
//! The runner drives instances only through [`torvyn_engine::WasmEngine`]
//! and [`torvyn_engine::ComponentInvoker`], so another backend (the mock)
//! runs the same scenarios by implementing [`SimBackend`]. The only
//! Wasmtime-specific pieces (loading `.wat`/`.wasm`, stdout capture) are in
//! [`WasmtimeBackend`].
//!
//! The async trait methods are driven by [`block_on`], a minimal
//! current-thread executor. It deliberately does not enter a Tokio runtime:
//! the Wasmtime backend's synchronous WASI calls would otherwise try
//! `block_in_place`, which a current-thread Tokio runtime forbids.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use torvyn_engine::clock::VirtualTime;
use torvyn_engine::{Clock, ComponentId, GuestOutput, RandomSource, WasmEngine};

use crate::error::HarnessError;
use crate::scenario::{ClockSetting, ComponentSource, Strategy};

/// Runs a future to completion on the current thread, parking between
/// polls.
pub fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// How to build the engine of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineSettings {
    /// The compiler.
    pub strategy: Strategy,
    /// Virtual or system clock.
    pub clock: ClockSetting,
    /// The virtual clock's cost model.
    pub virtual_time: VirtualTime,
    /// The seed of the guests' WASI randomness.
    pub seed: u64,
}

/// An engine backend the harness can drive.
pub trait SimBackend {
    /// The engine.
    type Engine: WasmEngine;

    /// The engine.
    fn engine(&self) -> &Self::Engine;

    /// The clock every instance of the engine reads.
    fn clock(&self) -> &Clock;

    /// Loads and compiles a component; `label` names it in errors.
    fn compile(
        &self,
        source: &ComponentSource,
        label: &str,
    ) -> Result<<Self::Engine as WasmEngine>::Compiled, HarnessError>;

    /// Creates an instance named `id`.
    fn instantiate(
        &self,
        compiled: &<Self::Engine as WasmEngine>::Compiled,
        id: &str,
    ) -> Result<<Self::Engine as WasmEngine>::Instance, HarnessError> {
        self.engine()
            .instantiate(compiled, ComponentId::new(id))
            .map_err(|source| HarnessError::Engine {
                action: "instantiate",
                component: id.to_string(),
                source,
            })
    }

    /// Sets the per-call fuel budget of an instance.
    fn set_fuel(
        &self,
        instance: &mut <Self::Engine as WasmEngine>::Instance,
        fuel: u64,
        id: &str,
    ) -> Result<(), HarnessError> {
        self.engine()
            .set_fuel(instance, fuel)
            .map_err(|source| HarnessError::Engine {
                action: "set the fuel of",
                component: id.to_string(),
                source,
            })
    }

    /// What the instance wrote to stdout and stderr since the last call of
    /// this method; empty for backends that do not capture it.
    fn take_output(
        &self,
        instance: &mut <Self::Engine as WasmEngine>::Instance,
    ) -> (GuestOutput, GuestOutput) {
        let _ = instance;
        (GuestOutput::default(), GuestOutput::default())
    }
}

#[cfg(feature = "wasmtime-backend")]
pub use self::wasmtime_backend::WasmtimeBackend;

#[cfg(feature = "wasmtime-backend")]
mod wasmtime_backend {
    use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
    use torvyn_engine::{Clock, GuestOutput, RandomSource, WasmtimeCompiled, WasmtimeInvoker};

    use super::{EngineSettings, SimBackend};
    use crate::error::HarnessError;
    use crate::scenario::{ClockSetting, ComponentSource};

    /// The Wasmtime backend: a fresh [`WasmtimeEngine`] per run, fixtures
    /// and `.wat` files through the fixture loader, guest stdout and stderr
    /// captured per call.
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
            let clock = match settings.clock {
                ClockSetting::Virtual => Clock::virtual_time(settings.virtual_time),
                ClockSetting::System => Clock::system(),
            };
            let engine = WasmtimeEngine::with_clock(config, clock).map_err(|source| {
                HarnessError::Engine {
                    action: "create an engine for",
                    component: "<engine>".into(),
                    source,
                }
            })?;
            Ok(Self { engine })
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
                .map_err(|source| HarnessError::Engine {
                    action: "compile",
                    component: label.to_string(),
                    source,
                })
        }
    }

    impl SimBackend for WasmtimeBackend {
        type Engine = WasmtimeEngine;

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
            let (bytes, origin) = source.load(label)?;
            self.compile_bytes(&bytes, &origin, label)
        }

        fn take_output(&self, instance: &mut WasmtimeInvoker) -> (GuestOutput, GuestOutput) {
            (instance.take_stdout(), instance.take_stderr())
        }
    }
}

/// Settings from a seed and the defaults: Cranelift, virtual clock.
impl EngineSettings {
    /// Cranelift, the virtual clock with its default cost model, `seed`.
    pub fn deterministic(seed: u64) -> Self {
        Self {
            strategy: Strategy::Cranelift,
            clock: ClockSetting::Virtual,
            virtual_time: VirtualTime::default(),
            seed,
        }
    }

    /// The WASI randomness these settings give guests.
    pub fn random(&self) -> RandomSource {
        RandomSource::Seeded(self.seed)
    }
}
