//! The one backend abstraction of the harness: what the scenario runner,
//! the pipeline simulation, the CLI, the conformance suite, the fuzz
//! targets and the benches need from an engine backend. [`SimBackend`] is
//! the engine traits, a clock, loading a component, and (where the backend
//! can) the guest's captured stdout and stderr.
//!
//! Two implementations, one file each:
//!
//! * [`MockBackend`] (always built): the mock engine with a model of every
//!   benign fixture registered, and scripted components described in
//!   scenario files. It compiles no Wasmtime.
//! * `WasmtimeBackend` (feature `wasmtime-backend`): fixtures, `.wat` and
//!   `.wasm` components on Wasmtime.
//!
//! [`BackendKind`] names one in files and on the command line, and
//! [`with_backend!`](crate::with_backend) runs generic code on the one a
//! run asks for.
//!
//! The async trait methods are driven by [`block_on`], a minimal
//! current-thread executor. It deliberately does not enter a Tokio runtime:
//! the Wasmtime backend's synchronous WASI calls would otherwise try
//! `block_in_place`, which a current-thread Tokio runtime forbids.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use torvyn_engine::VirtualTime;
use torvyn_engine::{
    Clock, ComponentId, Grants, GuestOutput, InstanceOptions, RandomSource, WasmEngine,
};

use crate::error::HarnessError;
use crate::source::ComponentSource;
use crate::spec::{BackendKind, ClockSetting};
use torvyn_engine::CompilationStrategy;

mod mock;
#[cfg(feature = "wasmtime-backend")]
mod wasmtime;

pub use self::mock::MockBackend;
#[cfg(feature = "wasmtime-backend")]
pub use self::wasmtime::WasmtimeBackend;

/// Runs `$body` with `$b` bound to a new backend of kind `$kind` built
/// from `$settings` (a `&EngineSettings`), and evaluates to
/// `Result<_, HarnessError>`: `Ok` of the body's value, or the error of
/// creating the backend (for Wasmtime in a build without it, an
/// [`HarnessError::Unsupported`] that says so). The body is generic code
/// over [`SimBackend`], monomorphized once per backend.
///
/// ```
/// use torvyn_harness::backend::{EngineSettings, SimBackend};
/// use torvyn_harness::spec::BackendKind;
/// use torvyn_harness::with_backend;
///
/// let settings = EngineSettings::deterministic(7);
/// let name = with_backend!(BackendKind::Mock, &settings, |b| {
///     let _ = b.clock().now_ns();
///     b.kind().name()
/// })?;
/// assert_eq!(name, "mock");
/// # Ok::<(), torvyn_harness::HarnessError>(())
/// ```
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, $settings:expr, |$b:ident| $body:expr) => {{
        let settings: &$crate::backend::EngineSettings = $settings;
        match $kind {
            $crate::spec::BackendKind::Mock => {
                $crate::backend::MockBackend::new(settings).map(|$b| {
                    let $b = &$b;
                    $body
                })
            }
            $crate::spec::BackendKind::Wasmtime => {
                $crate::__with_wasmtime!(settings, |$b| $body)
            }
        }
    }};
}

#[cfg(feature = "wasmtime-backend")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_wasmtime {
    ($settings:expr, |$b:ident| $body:expr) => {
        $crate::backend::WasmtimeBackend::new($settings).map(|$b| {
            let $b = &$b;
            $body
        })
    };
}

#[cfg(not(feature = "wasmtime-backend"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_wasmtime {
    ($settings:expr, |$b:ident| $body:expr) => {{
        let _ = $settings;
        Err($crate::backend::wasmtime_not_built())
    }};
}

/// The error of asking a build without the feature for Wasmtime.
#[doc(hidden)]
pub fn wasmtime_not_built() -> HarnessError {
    HarnessError::Unsupported {
        component: "<engine>".into(),
        problem: "this build of torvyn-harness has no Wasmtime backend (feature \
                  `wasmtime-backend` is off); use `backend: mock` or build with the feature"
            .into(),
    }
}

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineSettings {
    /// The compiler.
    pub strategy: CompilationStrategy,
    /// Virtual or system clock.
    pub clock: ClockSetting,
    /// The virtual clock's cost model.
    pub virtual_time: VirtualTime,
    /// The seed of the guests' WASI randomness.
    pub seed: u64,
    /// A directory for compiled components (a
    /// [`torvyn_engine::cache::CompiledComponentCache`] disk tier, shared
    /// by every backend and process given it); the Wasmtime backend loads
    /// a component compiled before from it instead of compiling again.
    /// `None`, the default of every library entry point, compiles every
    /// component afresh and writes nothing: only `torvyn-sim` sets it.
    pub cache_dir: Option<std::path::PathBuf>,
    /// The most bytes `cache_dir` may take (compiled components and, with
    /// Cranelift, the incremental compilation cache beside them, together;
    /// the least recently used are removed past it). `None` for the
    /// default, [`torvyn_engine::cache::DEFAULT_MAX_DISK_BYTES`].
    pub cache_max_bytes: Option<u64>,
    /// Whether the Wasmtime engine links imports it does not provide to
    /// stubs that trap when called (`UnknownImports::Trap`) rather than
    /// refusing the component (the engine's default).
    pub stub_unknown_imports: bool,
    /// The most linear memory one instance may have, in bytes
    /// ([`torvyn_engine::Limits::max_memory_bytes`]); `None` for the
    /// engine's default, 16 MiB.
    pub max_memory_bytes: Option<u64>,
}

/// An engine backend the harness can drive.
pub trait SimBackend: Sized {
    /// The engine.
    type Engine: WasmEngine;

    /// Which backend this is.
    const KIND: BackendKind;

    /// A fresh backend (a new engine and clock) as `settings` say.
    fn new(settings: &EngineSettings) -> Result<Self, HarnessError>;

    /// Which backend this is ([`SimBackend::KIND`], for a value).
    fn kind(&self) -> BackendKind {
        Self::KIND
    }

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

    /// Creates an instance named `id`, granted nothing.
    fn instantiate(
        &self,
        compiled: &<Self::Engine as WasmEngine>::Compiled,
        id: &str,
    ) -> Result<<Self::Engine as WasmEngine>::Instance, HarnessError> {
        self.instantiate_granting(compiled, id, &[])
    }

    /// Creates an instance named `id`, granted the capabilities `grants`
    /// (what its `capability-query` import answers `true` for).
    fn instantiate_granting(
        &self,
        compiled: &<Self::Engine as WasmEngine>::Compiled,
        id: &str,
        grants: &[String],
    ) -> Result<<Self::Engine as WasmEngine>::Instance, HarnessError> {
        let options = InstanceOptions::with_grants(Grants::new(grants.iter().cloned()));
        self.engine()
            .instantiate_with(compiled, ComponentId::new(id), &options)
            .map_err(|source| HarnessError::engine("instantiate", id, source))
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
            .map_err(|source| HarnessError::engine("set the fuel of", id, source))
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

/// Settings from a seed and the defaults: Cranelift, virtual clock.
impl EngineSettings {
    /// Cranelift, the virtual clock with its default cost model, `seed`.
    pub fn deterministic(seed: u64) -> Self {
        Self {
            strategy: CompilationStrategy::Cranelift,
            clock: ClockSetting::Virtual,
            virtual_time: VirtualTime::default(),
            seed,
            cache_dir: None,
            cache_max_bytes: None,
            stub_unknown_imports: false,
            max_memory_bytes: None,
        }
    }

    /// The engine's [`Limits`](torvyn_engine::Limits) with these settings'
    /// memory limit.
    pub fn limits(&self) -> torvyn_engine::Limits {
        let default = torvyn_engine::Limits::default();
        torvyn_engine::Limits {
            max_memory_bytes: self.max_memory_bytes.unwrap_or(default.max_memory_bytes),
            ..default
        }
    }

    /// A new clock of the kind these settings say (each backend gets its
    /// own, so a run's timeline starts at zero).
    pub fn new_clock(&self) -> Clock {
        match self.clock {
            ClockSetting::Virtual => Clock::virtual_time(self.virtual_time),
            ClockSetting::System => Clock::system(),
        }
    }

    /// The WASI randomness these settings give guests.
    pub fn random(&self) -> RandomSource {
        RandomSource::Seeded(self.seed)
    }
}
