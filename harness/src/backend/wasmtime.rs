//! [`WasmtimeBackend`]: the harness on the Wasmtime engine. Fixtures and
//! `.wat` files go through the fixture loader (componentized like
//! `wasm-tools component new`), `.wasm` components are read as they are,
//! and guest stdout and stderr are captured per call. With
//! [`EngineSettings::cache_dir`] set, compiles go through a
//! [`CompiledComponentCache`] with its disk tier in that directory, and a
//! Cranelift engine keeps its incremental compilation cache there too, so
//! a rebuilt component compiles only what changed.

use std::sync::Arc;

use torvyn_engine::CompilationStrategy;
use torvyn_engine::cache::{
    CacheConfig, CacheTier, CompiledComponentCache, DEFAULT_MAX_DISK_BYTES, IncrementalCacheConfig,
};
use torvyn_engine::wasmtime::{UnknownImports, WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::wasmtime::{WasmtimeCompiled, WasmtimeInvoker};
use torvyn_engine::{Clock, EngineError, GuestOutput, RandomSource};

use super::{EngineSettings, SimBackend};
use crate::error::HarnessError;
use crate::source::ComponentSource;
use crate::spec::BackendKind;

/// The Wasmtime backend: a fresh [`WasmtimeEngine`] per run, and the
/// compiled-component cache over it when the settings name a directory.
#[derive(Clone)]
pub struct WasmtimeBackend {
    engine: WasmtimeEngine,
    cache: Option<Arc<CompiledComponentCache<WasmtimeEngine>>>,
    /// Where the instances it creates are profiled (feature `profiling`).
    #[cfg(feature = "profiling")]
    profile: Option<torvyn_engine::wasmtime::ProfileRecorder>,
}

impl std::fmt::Debug for WasmtimeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmtimeBackend")
            .field("strategy", &self.engine.config().strategy)
            .field("cache_dir", &self.cache.as_ref().and_then(|c| c.disk_dir()))
            .finish_non_exhaustive()
    }
}

impl WasmtimeBackend {
    /// An engine with the default configuration, changed as `settings`
    /// say: compiler, clock, seeded WASI randomness.
    pub fn new(settings: &EngineSettings) -> Result<Self, HarnessError> {
        Self::with_config(Self::config_for(settings), settings)
    }

    /// Like [`WasmtimeBackend::new`], with an engine that records coverage
    /// ([`WasmtimeEngineConfig::coverage`]; read it with
    /// [`WasmtimeEngine::coverage`]); fixtures and `.wat` files are
    /// compiled with DWARF line tables of their text, so coverage maps onto
    /// their lines. Cranelift only: the error says so for Winch.
    #[cfg(feature = "coverage")]
    pub fn new_covering(settings: &EngineSettings) -> Result<Self, HarnessError> {
        let config = WasmtimeEngineConfig {
            coverage: true,
            ..Self::config_for(settings)
        };
        Self::with_config(config, settings)
    }

    fn config_for(settings: &EngineSettings) -> WasmtimeEngineConfig {
        WasmtimeEngineConfig {
            random: RandomSource::Seeded(settings.seed),
            unknown_imports: if settings.stub_unknown_imports {
                UnknownImports::Trap
            } else {
                UnknownImports::Refuse
            },
            limits: settings.limits(),
            ..WasmtimeEngineConfig::with_strategy(settings.strategy)
        }
    }

    /// An engine with `config` (its strategy and randomness are kept)
    /// and the clock and cache directory `settings` say. With a cache
    /// directory and Cranelift, the engine's incremental compilation cache
    /// is in that directory too (unless `config` names one already).
    ///
    /// # Errors
    ///
    /// [`HarnessError::Engine`] when the engine cannot be created, or when
    /// the cache directory is refused (not a directory, writable by group
    /// or others, owned by another user, or not writable: the error names
    /// it and what to do).
    pub fn with_config(
        config: WasmtimeEngineConfig,
        settings: &EngineSettings,
    ) -> Result<Self, HarnessError> {
        let clock = settings.new_clock();
        let max_disk_bytes = Some(settings.cache_max_bytes.unwrap_or(DEFAULT_MAX_DISK_BYTES));
        let mut config = config;
        if let Some(dir) = &settings.cache_dir
            && config.strategy == CompilationStrategy::Cranelift
            && config.incremental_cache.is_none()
        {
            config.incremental_cache = Some(IncrementalCacheConfig {
                cache_dir: dir.clone(),
                max_disk_bytes,
            });
        }
        let engine = WasmtimeEngine::with_clock(config, clock)
            .map_err(|source| HarnessError::engine("create an engine for", "<engine>", source))?;
        let cache = match &settings.cache_dir {
            None => None,
            Some(dir) => Some(Arc::new(
                CompiledComponentCache::new(
                    engine.clone(),
                    CacheConfig {
                        max_disk_bytes,
                        ..CacheConfig::with_disk(dir)
                    },
                )
                .map_err(|source| {
                    HarnessError::engine(
                        "open the compiled-component cache for",
                        "<engine>",
                        source,
                    )
                })?,
            )),
        };
        Ok(Self {
            engine,
            cache,
            #[cfg(feature = "profiling")]
            profile: None,
        })
    }

    /// A backend over an engine made elsewhere (its configuration and
    /// clock as they are), with no cache.
    pub fn from_engine(engine: WasmtimeEngine) -> Self {
        Self {
            engine,
            cache: None,
            #[cfg(feature = "profiling")]
            profile: None,
        }
    }

    /// This backend, profiling every instance it creates from now on in
    /// `recorder` (a thread each, named by the instance's id; feature
    /// `profiling`, see [`crate::profile`]).
    #[cfg(feature = "profiling")]
    pub fn with_profile(mut self, recorder: torvyn_engine::wasmtime::ProfileRecorder) -> Self {
        self.profile = Some(recorder);
        self
    }

    /// The compiled-component cache, when the settings named a directory.
    pub fn cache(&self) -> Option<&CompiledComponentCache<WasmtimeEngine>> {
        self.cache.as_deref()
    }

    /// The engine.
    pub fn wasmtime(&self) -> &WasmtimeEngine {
        &self.engine
    }

    /// Compiles component `bytes` read from `origin` (or loads it from the
    /// cache); `label` names the component in errors.
    pub fn compile_bytes(
        &self,
        bytes: &[u8],
        origin: &str,
        label: &str,
    ) -> Result<WasmtimeCompiled, HarnessError> {
        #[cfg(feature = "profiling")]
        if let Some(recorder) = &self.profile {
            for (exports, functions) in exported_functions(bytes) {
                recorder.name_exports(&exports, &functions);
            }
        }
        self.compile_named(bytes, origin)
            .map_err(|source| HarnessError::engine("compile", label, source))
    }

    /// [`WasmtimeEngine::compile_named`] through the cache when there is
    /// one: the engine's error as it is.
    pub fn compile_named(
        &self,
        bytes: &[u8],
        origin: &str,
    ) -> Result<WasmtimeCompiled, EngineError> {
        self.compile_tiered(bytes, origin)
            .map(|(compiled, _)| compiled)
    }

    /// [`WasmtimeBackend::compile_named`], and where the compiled component
    /// came from: the cache tier that answered, or
    /// [`CacheTier::Compiled`] (always, without a cache).
    pub fn compile_tiered(
        &self,
        bytes: &[u8],
        origin: &str,
    ) -> Result<(WasmtimeCompiled, CacheTier), EngineError> {
        match &self.cache {
            None => self
                .engine
                .compile_named(bytes, origin)
                .map(|compiled| (compiled, CacheTier::Compiled)),
            Some(cache) => cache
                .get_or_compile_with(bytes, &|engine, bytes| engine.compile_named(bytes, origin))
                .map(|outcome| {
                    // Loaded from disk, it is `<deserialized component>`:
                    // coverage records name it after its file again.
                    let compiled = if outcome.compiled.origin() == origin {
                        outcome.compiled
                    } else {
                        outcome.compiled.with_origin(origin)
                    };
                    (compiled, outcome.tier)
                }),
        }
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
        #[cfg(feature = "coverage")]
        if self.engine.config().coverage {
            let (bytes, origin) = source.load_with_lines(label)?;
            return self.compile_bytes(&bytes, &origin, label);
        }
        let (bytes, origin) = source.load(label)?;
        self.compile_bytes(&bytes, &origin, label)
    }

    #[cfg(feature = "profiling")]
    fn instantiate_granting(
        &self,
        compiled: &WasmtimeCompiled,
        id: &str,
        grants: &[String],
    ) -> Result<WasmtimeInvoker, HarnessError> {
        let options = torvyn_engine::InstanceOptions::with_grants(torvyn_engine::Grants::new(
            grants.iter().cloned(),
        ));
        let mut inst = torvyn_engine::WasmEngine::instantiate_with(
            &self.engine,
            compiled,
            torvyn_engine::ComponentId::new(id),
            &options,
        )
        .map_err(|source| HarnessError::engine("instantiate", id, source))?;
        if let Some(recorder) = &self.profile {
            inst.attach_profile(recorder, id);
        }
        Ok(inst)
    }

    fn take_output(&self, instance: &mut WasmtimeInvoker) -> (GuestOutput, GuestOutput) {
        (instance.take_stdout(), instance.take_stderr())
    }
}

/// A core module's export names, and its exported functions' indices and
/// names.
#[cfg(feature = "profiling")]
type ModuleExports = (Vec<String>, Vec<(u32, String)>);

/// The exported functions of each core module in `bytes` (a component or
/// a core module): all its export names, and its exported functions'
/// indices and names, for `ProfileRecorder::name_exports`. Unreadable
/// bytes name nothing (the compile reports them).
#[cfg(feature = "profiling")]
fn exported_functions(bytes: &[u8]) -> Vec<ModuleExports> {
    use wasmparser::{Encoding, ExternalKind, Parser, Payload};
    let mut out = Vec::new();
    // One entry per module or component being read; `None` for components.
    let mut open: Vec<Option<ModuleExports>> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        match payload {
            Payload::Version { encoding, .. } => open.push(match encoding {
                Encoding::Module => Some(Default::default()),
                Encoding::Component => None,
            }),
            Payload::ExportSection(reader) => {
                if let Some(Some((exports, functions))) = open.last_mut() {
                    for export in reader.into_iter().flatten() {
                        exports.push(export.name.to_string());
                        if export.kind == ExternalKind::Func {
                            functions.push((export.index, export.name.to_string()));
                        }
                    }
                }
            }
            Payload::End(_) => {
                if let Some(Some(module)) = open.pop() {
                    out.push(module);
                }
            }
            _ => {}
        }
    }
    out
}
