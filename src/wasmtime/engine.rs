//! [`WasmtimeEngine`]: compile, link once, instantiate.
//!
//! Cold path. One engine owns the Wasmtime `Engine`, a `Linker` with WASI p2
//! and the contract's host functions, and the epoch ticker thread that
//! enforces deadlines. Compiling a component also links it once
//! (`InstancePre`) and finds its roles, so [`WasmEngine::instantiate`] does
//! no linking and no export lookup by name.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Strategy};

use super::config::{UnknownImports, WasmtimeEngineConfig};
#[cfg(feature = "coverage")]
use super::coverage;
use super::exports::{ExportIndices, Exports};
use super::host::{self, HostState, STREAMING_SPELLINGS};
use super::invoker::WasmtimeInvoker;
use super::limiter::Limiter;
use super::stubs::{absent_import, define_stubs, provided_resource, unlinked};
use super::ticker::EpochTicker;
use super::wasi::{self, CapturedOutput};
use super::wasi_io;
use crate::CompilationStrategy;
use crate::cache::incremental::IncrementalStore;
use crate::clock::Clock;
use crate::error::EngineError;
use crate::host::HostResources;
use crate::instance::InstanceOptions;
use crate::traits::WasmEngine;
use crate::types::{ComponentId, Roles, World};
use crate::world::WorldTap;

pub(crate) struct EngineInner {
    pub engine: Engine,
    pub linker: Linker<HostState>,
    pub config: WasmtimeEngineConfig,
    pub clock: Clock,
    /// [`EngineInner::ticks_for`] of `limits.call_deadline` (0 without
    /// one), computed once: most calls are allowed just that, and the
    /// 128-bit division is then not paid per call.
    pub call_deadline_ticks: u64,
    /// Cranelift's incremental cache, when configured.
    pub incremental: Option<Arc<IncrementalStore>>,
    /// What every instance made with coverage on ran (its recorder).
    #[cfg(feature = "coverage")]
    pub covered: std::sync::Mutex<Vec<coverage::Recorder>>,
    _ticker: EpochTicker,
}

impl EngineInner {
    /// The epoch deadline of a call allowed `allowed`.
    #[inline]
    pub fn deadline_ticks(&self, allowed: Duration) -> u64 {
        if Some(allowed) == self.config.limits.call_deadline {
            self.call_deadline_ticks
        } else {
            self.ticks_for(allowed)
        }
    }

    /// Epoch ticks to allow for `allowed`, rounded up, plus one tick because
    /// the current tick may be about to end.
    pub fn ticks_for(&self, allowed: Duration) -> u64 {
        let tick = self.config.epoch_tick.as_nanos().max(1);
        u64::try_from(allowed.as_nanos().div_ceil(tick))
            .unwrap_or(u64::MAX / 2)
            .saturating_add(1)
    }
}

/// A Wasmtime-backed engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct WasmtimeEngine {
    inner: Arc<EngineInner>,
}

/// A compiled, linked component: cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct WasmtimeCompiled {
    inner: Arc<Prepared>,
}

struct Prepared {
    component: Component,
    /// Where the component came from (a path, usually): coverage records
    /// of its modules without line information are named after it.
    origin: String,
    /// What the component's modules have, read at the first instantiation
    /// with coverage on.
    #[cfg(feature = "coverage")]
    coverage: std::sync::OnceLock<Arc<coverage::ComponentMap>>,
    pre: InstancePre<HostState>,
    indices: ExportIndices,
    worlds: Vec<World>,
    imports: Vec<String>,
    exports: Vec<String>,
    stubbed: Vec<String>,
}

impl WasmtimeCompiled {
    /// The roles the component exports (by name; the types are checked at
    /// instantiation).
    pub fn roles(&self) -> Roles {
        self.inner.indices.roles
    }

    /// The contract worlds the component satisfies: it exports everything
    /// the world exports and imports nothing the world does not (WASI
    /// and `torvyn:capabilities` imports aside), under either spelling of
    /// the streaming package.
    pub fn worlds(&self) -> &[World] {
        &self.inner.worlds
    }

    /// The names of the component's imports.
    pub fn imports(&self) -> &[String] {
        &self.inner.imports
    }

    /// The names of the component's exports.
    pub fn exports(&self) -> &[String] {
        &self.inner.exports
    }

    /// Where the component came from, as the compile was told (`origin`
    /// of [`WasmtimeEngine::compile_named`]; `<deserialized component>`
    /// after [`WasmEngine::deserialize`]).
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The same compiled component, said to come from `origin` (a
    /// component loaded from a cache of compiled code, say, named after
    /// its file again): coverage records name it.
    pub fn with_origin(&self, origin: &str) -> Self {
        let p = &self.inner;
        Self {
            inner: Arc::new(Prepared {
                component: p.component.clone(),
                origin: origin.to_owned(),
                #[cfg(feature = "coverage")]
                coverage: std::sync::OnceLock::new(),
                pre: p.pre.clone(),
                indices: p.indices.clone(),
                worlds: p.worlds.clone(),
                imports: p.imports.clone(),
                exports: p.exports.clone(),
                stubbed: p.stubbed.clone(),
            }),
        }
    }

    /// The imports the engine does not provide and linked to stubs that
    /// trap when called ([`UnknownImports::Trap`]), by name, in the order
    /// the component imports them; empty when the engine provides every
    /// import (always, with [`UnknownImports::Refuse`]).
    pub fn stubbed_imports(&self) -> &[String] {
        &self.inner.stubbed
    }
}

impl std::fmt::Debug for WasmtimeCompiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmtimeCompiled")
            .field("roles", &self.inner.indices.roles)
            .field("imports", &self.inner.imports)
            .field("stubbed_imports", &self.inner.stubbed)
            .finish_non_exhaustive()
    }
}

impl WasmtimeEngine {
    /// An engine with the system clock.
    pub fn new(config: WasmtimeEngineConfig) -> Result<Self, EngineError> {
        Self::with_clock(config, Clock::system())
    }

    /// An engine reading time from `clock`.
    ///
    /// A virtual clock ([`Clock::virtual_time`]) needs fuel metering on:
    /// deadlines are enforced through fuel. An invalid configuration is
    /// refused with [`EngineError::InvalidConfig`] listing every problem
    /// (the clock's among them).
    pub fn with_clock(config: WasmtimeEngineConfig, clock: Clock) -> Result<Self, EngineError> {
        let mut problems = match config.validate() {
            Err(EngineError::InvalidConfig(problems)) => problems,
            Err(other) => return Err(other),
            Ok(()) => Vec::new(),
        };
        config.limits.check_clock(&clock, &mut problems);
        crate::config::problems_to_result(problems)?;
        let incremental = config
            .incremental_cache
            .as_ref()
            .map(|c| IncrementalStore::open(c).map(Arc::new))
            .transpose()?;
        let mut wasmtime_config = wasmtime_config(&config);
        if let Some(store) = &incremental {
            wasmtime_config
                .enable_incremental_compilation(Arc::new(CraneliftStore(Arc::clone(store))))
                .map_err(|e| {
                    EngineError::Unsupported(format!(
                        "Wasmtime refused the incremental compilation cache: {e:#}"
                    ))
                })?;
        }
        let engine = Engine::new(&wasmtime_config).map_err(|e| {
            EngineError::Unsupported(format!("Wasmtime refused the configuration: {e:#}"))
        })?;
        let mut linker = Linker::new(&engine);
        // A component built against an older 0.2.x WASI finds the newer
        // definitions through semver matching. The streaming package is
        // linked under both its spellings (see `host::STREAMING_SPELLINGS`).
        wasi_io::add_to_linker(&mut linker)
            .and_then(|()| {
                // On a virtual clock, host calls count against the call's
                // deadline; on the system clock they are not checked (the
                // epoch deadline watches the guest).
                STREAMING_SPELLINGS.iter().try_for_each(|v| {
                    if clock.is_virtual() {
                        host::add_streaming_to_linker::<true>(&mut linker, v)
                    } else {
                        host::add_streaming_to_linker::<false>(&mut linker, v)
                    }
                })
            })
            .and_then(|()| {
                if clock.is_virtual() {
                    host::add_capabilities_to_linker::<true>(&mut linker)
                } else {
                    host::add_capabilities_to_linker::<false>(&mut linker)
                }
            })
            .map_err(|e| EngineError::Unsupported(format!("cannot set up the linker: {e:#}")))?;
        let ticker = EpochTicker::start(&engine, config.epoch_tick);
        let mut inner = EngineInner {
            engine,
            linker,
            config,
            clock,
            call_deadline_ticks: 0,
            incremental,
            #[cfg(feature = "coverage")]
            covered: std::sync::Mutex::default(),
            _ticker: ticker,
        };
        if let Some(deadline) = inner.config.limits.call_deadline {
            inner.call_deadline_ticks = inner.ticks_for(deadline);
        }
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> &WasmtimeEngineConfig {
        &self.inner.config
    }

    /// The engine clock (deadlines in flow contexts are on its timeline).
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The Wasmtime engine underneath, for code that makes Wasmtime objects
    /// of its own beside this engine's (torvyn-engine 0.1's
    /// `WasmtimeEngine::inner` returns it). Code compiled on it with
    /// [`wasmtime::component::Component::serialize`] loads here through
    /// [`WasmEngine::deserialize`].
    pub fn wasmtime_engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Compiles a component read from `path` (binary, or WAT text when the
    /// file ends in `.wat`); errors name the path.
    pub fn compile_file(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<WasmtimeCompiled, EngineError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| EngineError::Compile {
            origin: origin.clone(),
            message: format!("cannot read the file: {e}"),
        })?;
        if path.extension().is_some_and(|e| e == "wat") {
            let text = String::from_utf8(bytes).map_err(|e| EngineError::InvalidWat {
                origin: origin.clone(),
                message: format!("not UTF-8: {e}"),
            })?;
            self.compile_wat_named(&text, &origin)
        } else {
            self.compile_named(&bytes, &origin)
        }
    }

    /// Like [`WasmEngine::compile`], naming `origin` in errors.
    pub fn compile_named(
        &self,
        bytes: &[u8],
        origin: &str,
    ) -> Result<WasmtimeCompiled, EngineError> {
        let _span = crate::trace::cold("compile", origin);
        if bytes.is_empty() {
            return Err(EngineError::Compile {
                origin: origin.into(),
                message: "the input is empty".into(),
            });
        }
        if is_core_module(bytes) {
            return Err(EngineError::NotAComponent {
                origin: origin.into(),
            });
        }
        let before = self.inner.incremental.as_ref().map(|s| s.stats());
        let component = Component::from_binary(&self.inner.engine, bytes);
        if let (Some(store), Some(_before)) = (&self.inner.incremental, before) {
            store.flush();
            #[cfg(feature = "tracing-support")]
            {
                let d = store.stats().since(&_before);
                tracing::info!(
                    target: "torvyn_engine::cache",
                    hits = d.hits,
                    misses = d.misses,
                    bytes_read = d.bytes_read,
                    bytes_written = d.bytes_written,
                    rejected = d.rejected,
                    "incremental compilation cache"
                );
            }
        }
        let component = component.map_err(|e| EngineError::Compile {
            origin: origin.into(),
            message: format!("{e:#}"),
        })?;
        self.prepare(component, origin)
    }

    /// What every instance this engine made ran, merged (see
    /// [`crate::coverage`]: a count is of instances); `None` unless the
    /// engine records coverage ([`WasmtimeEngineConfig::coverage`]).
    /// Instances dropped since still count.
    pub fn coverage(&self) -> Option<crate::Coverage> {
        #[cfg(feature = "coverage")]
        if self.inner.config.coverage {
            let recorders = self
                .inner
                .covered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let mut all = crate::Coverage::new();
            for r in &recorders {
                all.merge(&r.coverage());
            }
            return Some(all);
        }
        None
    }

    /// The counters of the incremental compilation cache
    /// ([`WasmtimeEngineConfig::incremental_cache`]), when there is one.
    pub fn incremental_stats(&self) -> Option<crate::IncrementalStats> {
        self.inner.incremental.as_ref().map(|s| s.stats())
    }

    /// Like [`WasmEngine::compile_wat`], naming `origin` in errors.
    pub fn compile_wat_named(
        &self,
        text: &str,
        origin: &str,
    ) -> Result<WasmtimeCompiled, EngineError> {
        // With coverage on, line tables of the text, so coverage maps onto it.
        #[cfg(feature = "coverage")]
        let parsed = if self.inner.config.coverage {
            wat::Parser::new()
                .generate_dwarf(wat::GenerateDwarf::Lines)
                .parse_str(Some(std::path::Path::new(origin)), text)
        } else {
            wat::parse_str(text)
        };
        #[cfg(not(feature = "coverage"))]
        let parsed = wat::parse_str(text);
        let bytes = parsed.map_err(|e| EngineError::InvalidWat {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        self.compile_named(&bytes, origin)
    }

    fn prepare(&self, component: Component, origin: &str) -> Result<WasmtimeCompiled, EngineError> {
        let engine = &self.inner.engine;
        let ty = component.component_type();
        let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_owned()).collect();
        let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
        // The common path: the shared linker provides every import.
        let (pre, stubbed) = match self.inner.linker.instantiate_pre(&component) {
            Ok(pre) => (pre, Vec::new()),
            Err(e) => self.link_with_stubs(&component, origin, e)?,
        };
        let indices = ExportIndices::new(&component);
        let roles = indices.roles;
        if roles.is_empty() {
            return Err(EngineError::NoRoles {
                component: ComponentId::new(origin),
                exports: if exports.is_empty() {
                    "nothing".into()
                } else {
                    exports.join(", ")
                },
            });
        }
        let worlds = satisfied_worlds(roles, &imports);
        Ok(WasmtimeCompiled {
            inner: Arc::new(Prepared {
                component,
                origin: origin.to_owned(),
                #[cfg(feature = "coverage")]
                coverage: std::sync::OnceLock::new(),
                pre,
                indices,
                worlds,
                imports,
                exports,
                stubbed,
            }),
        })
    }

    /// The cold path of linking, after the shared linker refused
    /// `component` with `first`: on a clone of the linker, links each import
    /// it lacks to stubs, one at a time, until the component links. With
    /// [`UnknownImports::Refuse`] the result is an error naming every
    /// missing import; with [`UnknownImports::Trap`], the linked component
    /// and the stubbed imports' names. An import the linker provides with
    /// other types is never stubbed: the error is the linker's.
    #[cold]
    fn link_with_stubs(
        &self,
        component: &Component,
        origin: &str,
        first: wasmtime::Error,
    ) -> Result<(InstancePre<HostState>, Vec<String>), EngineError> {
        let engine = &self.inner.engine;
        let imports: Vec<(String, ComponentItem)> = component
            .component_type()
            .imports(engine)
            .map(|(n, import)| (n.to_owned(), import.ty))
            .collect();
        let mut linker = self.inner.linker.clone();
        let mut stubbed: Vec<String> = Vec::new();
        let mut error = first;
        let link_error = |missing: Vec<String>, e: &wasmtime::Error| EngineError::Link {
            component: ComponentId::new(origin),
            missing,
            message: format!("{e:#}"),
        };
        loop {
            let Some((name, item)) = absent_import(&error, engine, &imports)
                .filter(|(name, _)| !stubbed.iter().any(|s| s == name))
            else {
                return Err(link_error(stubbed, &error));
            };
            if define_stubs(
                &mut linker,
                engine,
                name,
                item,
                &imports,
                provided_resource,
                unlinked,
            )
            .is_err()
            {
                return Err(link_error(stubbed, &error));
            }
            stubbed.push(name.clone());
            match linker.instantiate_pre(component) {
                Ok(pre) => {
                    return match self.inner.config.unknown_imports {
                        UnknownImports::Trap => Ok((pre, stubbed)),
                        UnknownImports::Refuse => Err(link_error(stubbed, &error)),
                    };
                }
                Err(e) => error = e,
            }
        }
    }
}

/// Whether `bytes` start with the header of a core module (`\0asm`,
/// version 1) rather than a component's (version 0x0d, layer 1).
fn is_core_module(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0asm\x01\0\0\0")
}

/// Which contract worlds a linked component satisfies: it exports the
/// world's roles (the export types are checked at instantiation) and
/// imports nothing the world does not, under either spelling of the
/// streaming package; WASI and `torvyn:capabilities` imports are allowed
/// in every world.
fn satisfied_worlds(roles: Roles, imports: &[String]) -> Vec<World> {
    World::ALL
        .into_iter()
        .filter(|w| w.exports().iter().all(|r| roles.contains(*r)))
        .filter(|w| imports.iter().all(|i| w.allows_import(i)))
        .collect()
}

/// The Wasmtime configuration that shapes the engine's machine code for
/// `config`: compiler, fuel metering, epoch interruption, stack limit,
/// parallel compilation, the component model. The engine adds its instance
/// allocator on top. For a host that wants to run exactly the engine's code
/// outside it (the benchmarks' minimal `bindgen!` baseline does).
pub fn codegen_config(config: &WasmtimeEngineConfig) -> wasmtime::Config {
    let mut c = wasmtime::Config::new();
    c.wasm_component_model(true)
        .strategy(match config.strategy {
            CompilationStrategy::Cranelift => Strategy::Cranelift,
            CompilationStrategy::Winch => Strategy::Winch,
        })
        .consume_fuel(config.limits.fuel_enabled)
        .epoch_interruption(true)
        .max_wasm_stack(config.max_wasm_stack)
        .parallel_compilation(config.parallel_compilation);
    #[cfg(feature = "coverage")]
    if config.coverage {
        c.guest_debug(true);
    }
    c
}

fn wasmtime_config(config: &WasmtimeEngineConfig) -> wasmtime::Config {
    let mut c = codegen_config(config);
    if let Some(pool) = &config.pooling {
        let mut p = PoolingAllocationConfig::default();
        p.total_component_instances(pool.total_component_instances)
            .total_core_instances(pool.total_core_instances)
            .total_memories(pool.total_memories)
            .total_tables(pool.total_tables)
            .max_memory_size(usize::try_from(config.limits.max_memory_bytes).unwrap_or(usize::MAX))
            .linear_memory_keep_resident(usize::try_from(pool.keep_resident_bytes).unwrap_or(0))
            .table_keep_resident(usize::try_from(pool.keep_resident_bytes).unwrap_or(0));
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(p));
    }
    c
}

impl WasmEngine for WasmtimeEngine {
    type Compiled = WasmtimeCompiled;
    type Instance = WasmtimeInvoker;

    fn compile(&self, bytes: &[u8]) -> Result<WasmtimeCompiled, EngineError> {
        self.compile_named(bytes, "<component bytes>")
    }

    fn compile_wat(&self, text: &str) -> Result<WasmtimeCompiled, EngineError> {
        self.compile_wat_named(text, "<wat text>")
    }

    fn serialize(&self, compiled: &WasmtimeCompiled) -> Result<Vec<u8>, EngineError> {
        compiled
            .inner
            .component
            .serialize()
            .map_err(|e| EngineError::Serialize(format!("{e:#}")))
    }

    unsafe fn deserialize(&self, bytes: &[u8]) -> Result<WasmtimeCompiled, EngineError> {
        match Engine::detect_precompiled(bytes) {
            Some(wasmtime::Precompiled::Component) => {}
            Some(wasmtime::Precompiled::Module) => {
                return Err(EngineError::CorruptArtifact(
                    "the bytes are a compiled core module, not a component".into(),
                ));
            }
            None => {
                return Err(EngineError::CorruptArtifact(
                    "the bytes are not a Wasmtime compiled artifact".into(),
                ));
            }
        }
        // SAFETY: the caller guarantees the bytes came from `serialize` of a
        // compatible engine and were not tampered with.
        let component =
            unsafe { Component::deserialize(&self.inner.engine, bytes) }.map_err(|e| {
                let message = format!("{e:#}");
                if message.contains("compiled with")
                    || message.contains("compatib")
                    || message.contains("version")
                    || message.contains("setting")
                {
                    EngineError::IncompatibleArtifact(message)
                } else {
                    EngineError::CorruptArtifact(message)
                }
            })?;
        self.prepare(component, "<deserialized component>")
    }

    fn instantiate_with(
        &self,
        compiled: &WasmtimeCompiled,
        id: ComponentId,
        options: &InstanceOptions,
    ) -> Result<WasmtimeInvoker, EngineError> {
        let _span = crate::trace::cold("instantiate", id.as_str());
        let inner = &self.inner;
        let config = &inner.config;
        if !Engine::same(compiled.inner.component.engine(), &inner.engine) {
            return Err(EngineError::Instantiate {
                component: id,
                message: "it was compiled by another engine; compile (or deserialize) it with \
                          the engine that instantiates it"
                    .into(),
            });
        }
        let tap = WorldTap::with_output_cap(config.max_captured_output);
        let stdout = CapturedOutput::new(config.max_captured_output, &tap, false);
        let stderr = CapturedOutput::new(config.max_captured_output, &tap, true);
        let seed = inner.config.random.seed_for(id.as_str());
        let insecure_seed = wasi::insecure_seed(options.insecure_seed, seed);
        let wasi = wasi::context(&inner.clock, seed, insecure_seed, &stdout, &stderr, &tap);
        let state = HostState::new(
            HostResources::new(config.resource_limits(), inner.clock.clone())
                .with_grants(options.grants.clone())
                .with_fault_plan(options.host_faults_for(id.as_str()))
                .with_host_call_trace(options.trace_host_calls),
            Limiter::new(config),
            stdout,
            stderr,
            wasi,
        );
        let mut store = Store::new(&inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        if config.limits.fuel_enabled {
            store
                .set_fuel(config.limits.fuel_per_call)
                .map_err(|e| EngineError::Unsupported(format!("{e:#}")))?;
        }
        store.set_epoch_deadline(match config.limits.call_deadline {
            Some(d) => inner.ticks_for(d),
            None => u64::MAX / 2,
        });
        let p = &compiled.inner;
        let instantiated = p.pre.instantiate(&mut store);
        if config.limits.fuel_enabled {
            let left = store.get_fuel().unwrap_or(0);
            inner
                .clock
                .charge_fuel(config.limits.fuel_per_call.saturating_sub(left));
        }
        let instance = instantiated.map_err(|e| EngineError::Instantiate {
            component: id.clone(),
            message: store.data().limiter.instantiation_failure(&e),
        })?;
        #[cfg_attr(not(feature = "coverage"), allow(unused_mut))]
        let mut exports =
            Exports::load(&p.indices, &mut store, &instance).map_err(|(role, e)| {
                EngineError::WrongExportTypes {
                    component: id.clone(),
                    interface: role.interface(),
                    message: format!("{e:#}"),
                }
            })?;
        #[cfg(feature = "coverage")]
        if config.coverage {
            let maps = p
                .coverage
                .get_or_init(|| Arc::new(coverage::component_map(&mut store, &p.origin)));
            let recorder =
                coverage::Recorder::install(&mut store, Arc::clone(maps)).map_err(|e| {
                    EngineError::Instantiate {
                        component: id.clone(),
                        message: format!("cannot set the coverage breakpoints: {e:#}"),
                    }
                })?;
            inner
                .covered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(recorder.clone());
            exports.coverage = Some(recorder);
        }
        Ok(WasmtimeInvoker::new(
            Arc::clone(&self.inner),
            store,
            exports,
            p.indices.roles,
            id,
            (tap, insecure_seed),
        ))
    }

    fn set_fuel(&self, instance: &mut WasmtimeInvoker, fuel: u64) -> Result<(), EngineError> {
        crate::invoke::check_fuel(self.inner.config.limits.fuel_enabled, fuel)?;
        instance.set_fuel_budget(fuel);
        Ok(())
    }

    fn fuel_remaining(&self, instance: &WasmtimeInvoker) -> Option<u64> {
        instance.fuel_remaining()
    }

    fn memory_usage(&self, instance: &WasmtimeInvoker) -> u64 {
        instance.memory_bytes()
    }

    fn fingerprint(&self) -> [u8; 32] {
        engine_fingerprint(&self.inner.engine, &self.inner.config)
    }

    fn incremental_stats(&self) -> Option<crate::IncrementalStats> {
        WasmtimeEngine::incremental_stats(self)
    }
}

/// The incremental store as Wasmtime's `CacheStore`: Cranelift asks it for
/// a function's compiled code by the digest of its IR, and gives it what
/// it compiled. `get` returns only values whose SHA-256 checked out.
#[derive(Debug)]
struct CraneliftStore(Arc<IncrementalStore>);

impl wasmtime::CacheStore for CraneliftStore {
    fn get(&self, key: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
        self.0.get(key).map(std::borrow::Cow::Owned)
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        self.0.insert(key, value)
    }
}

/// [`WasmEngine::fingerprint`]: Wasmtime's own compatibility hash (its
/// version, the target triple, compiler and ISA flags, tunables such as
/// fuel, epochs and memory reservations, wasm features) plus this crate's
/// version, the host target and the config fields that shape compiled code.
fn engine_fingerprint(engine: &Engine, config: &WasmtimeEngineConfig) -> [u8; 32] {
    use std::hash::Hash;
    let mut h = crate::cache::FingerprintHasher::new("torvyn-engine/wasmtime");
    env!("CARGO_PKG_VERSION").hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    std::env::consts::ARCH.hash(&mut h);
    std::env::consts::OS.hash(&mut h);
    cfg!(target_endian = "little").hash(&mut h);
    usize::BITS.hash(&mut h);
    config.strategy.name().hash(&mut h);
    config.limits.fuel_enabled.hash(&mut h);
    config.max_wasm_stack.hash(&mut h);
    config.limits.max_memory_bytes.hash(&mut h);
    config.coverage.hash(&mut h);
    config
        .pooling
        .map(|p| {
            (
                p.total_component_instances,
                p.total_core_instances,
                p.total_memories,
                p.total_tables,
            )
        })
        .hash(&mut h);
    h.digest()
}
