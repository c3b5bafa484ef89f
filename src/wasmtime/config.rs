//! Configuration of the Wasmtime backend: the shared [`Limits`], and what
//! only Wasmtime has (compiler choice, allocation strategy, stack, tables,
//! epochs).
//!
//! Cold path. [`WasmtimeEngineConfig::validate`] reports every problem at
//! once; [`super::WasmtimeEngine::new`] refuses an invalid config.

use std::time::Duration;

use crate::CompilationStrategy;
use crate::cache::IncrementalCacheConfig;
use crate::config::{Limits, problems_to_result};
use crate::error::{ConfigProblem, EngineError};
use crate::host::ResourceLimits;
use crate::random::RandomSource;

/// What [`super::WasmtimeEngine`] does with a component that imports
/// something its linker does not provide (WASI p2, the contract's
/// `torvyn:streaming` and `torvyn:capabilities` interfaces): for example
/// `wasi:http/types`, which componentize-js imports with its default flags.
///
/// The default is [`UnknownImports::Refuse`], as with `wasmtime run`, which
/// refuses such a component unless given `-D unknown-imports-trap=y`: a
/// missing import is usually a component built for another host, and the
/// library should say so at compile time rather than fault on the first
/// element that reaches the import. `torvyn-sim` turns stubs on (its
/// `--refuse-unknown-imports` turns them off) so that a component built with
/// a toolchain's default flags runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UnknownImports {
    /// Compiling the component fails with [`EngineError::Link`], naming every
    /// missing import.
    #[default]
    Refuse,
    /// Every missing import is linked to a stub: the component compiles
    /// ([`super::WasmtimeCompiled::stubbed_imports`] names the stubbed
    /// imports), and a call of a stubbed function faults with a trap of code
    /// [`crate::TrapCode::UnlinkedImport`] naming the function; like every
    /// trap, it poisons the instance.
    Trap,
}

impl UnknownImports {
    /// The option's lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Refuse => "refuse",
            Self::Trap => "trap",
        }
    }
}

/// Limits of the pooling instance allocator, which pre-reserves memory for
/// a fixed number of instances so instantiation does no `mmap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolingConfig {
    /// Component instances live at once, across the engine.
    pub total_component_instances: u32,
    /// Core instances live at once (a component has several).
    pub total_core_instances: u32,
    /// Linear memories live at once.
    pub total_memories: u32,
    /// Tables live at once.
    pub total_tables: u32,
    /// Bytes at the start of each linear memory and table that stay
    /// resident when a slot is reused: they are zeroed with `memset`
    /// instead of returned to the kernel, so the next instance does not
    /// page-fault them back in. Default 64 KiB (one wasm page).
    pub keep_resident_bytes: u64,
}

impl Default for PoolingConfig {
    fn default() -> Self {
        Self {
            total_component_instances: 128,
            total_core_instances: 1024,
            total_memories: 256,
            total_tables: 512,
            keep_resident_bytes: 64 * 1024,
        }
    }
}

/// Configuration of [`super::WasmtimeEngine`].
///
/// Defaults: Cranelift, the default [`Limits`] (fuel metering on with a
/// budget of 50 million units per call, a 10-second deadline per call,
/// 16 MiB of linear memory, 64 MiB of host buffers per instance), a 1 MiB
/// wasm stack, on-demand allocation, unknown imports refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasmtimeEngineConfig {
    /// The compiler.
    pub strategy: CompilationStrategy,
    /// Fuel, deadline, memory, buffer and resource limits (the same type as
    /// the mock's).
    pub limits: Limits,
    /// How often the engine's ticker thread advances the epoch; deadlines
    /// are enforced to this granularity.
    pub epoch_tick: Duration,
    /// The most elements one table may hold.
    pub max_table_elements: u64,
    /// The most core instances one component instance may create.
    pub max_core_instances: usize,
    /// The most tables one instance may create.
    pub max_tables: usize,
    /// The most linear memories one instance may create.
    pub max_memories: usize,
    /// The most stack the guest may use, in bytes.
    pub max_wasm_stack: usize,
    /// Bytes of guest stdout (and, separately, stderr) kept per instance;
    /// more is counted and discarded.
    pub max_captured_output: usize,
    /// Use the pooling instance allocator with these limits; `None` for
    /// on-demand allocation.
    pub pooling: Option<PoolingConfig>,
    /// Compile functions on several threads.
    pub parallel_compilation: bool,
    /// Where guests' WASI random bytes come from.
    pub random: RandomSource,
    /// What to do with imports the engine does not provide (refused by
    /// default; see [`UnknownImports`]).
    pub unknown_imports: UnknownImports,
    /// Cranelift's incremental compilation cache, on disk: each compiled
    /// function is stored under a digest of its IR, so a rebuilt component
    /// whose functions are mostly unchanged compiles in a fraction of the
    /// time (see [`crate::cache::IncrementalCacheConfig`]). Every entry is
    /// checked against its SHA-256 before Cranelift turns it into machine
    /// code. `None` (the default) for none. Cranelift only: Winch has no
    /// incremental cache, and [`Self::validate`] refuses one with
    /// [`CompilationStrategy::Winch`].
    pub incremental_cache: Option<IncrementalCacheConfig>,
    /// Record code coverage: which functions, and where a core module has
    /// DWARF line tables which source lines, each instance runs
    /// ([`super::WasmtimeInvoker::coverage`]). Compiles with Wasmtime's
    /// guest debugging and sets a one-shot breakpoint on every function and
    /// line of each instance: a function or line costs a trip to the host
    /// the first time it runs, and instantiating costs setting the
    /// breakpoints (figures in `benches/RESULTS.md`). WAT compiled by an
    /// engine with coverage carries DWARF line tables of the text, so
    /// coverage maps onto the `.wat` lines. Cranelift only: [`Self::validate`]
    /// refuses it with [`CompilationStrategy::Winch`], and without the
    /// crate's `coverage` feature. Off by default.
    pub coverage: bool,
}

impl Default for WasmtimeEngineConfig {
    fn default() -> Self {
        Self {
            strategy: CompilationStrategy::Cranelift,
            limits: Limits::default(),
            epoch_tick: Duration::from_millis(1),
            max_table_elements: 100_000,
            max_core_instances: 64,
            max_tables: 64,
            max_memories: 8,
            max_wasm_stack: 1024 * 1024,
            max_captured_output: 64 * 1024,
            pooling: None,
            parallel_compilation: true,
            random: RandomSource::System,
            unknown_imports: UnknownImports::Refuse,
            incremental_cache: None,
            coverage: false,
        }
    }
}

impl WasmtimeEngineConfig {
    /// The default configuration with another compiler.
    pub fn with_strategy(strategy: CompilationStrategy) -> Self {
        Self {
            strategy,
            ..Self::default()
        }
    }

    /// Checks the configuration and lists every problem found (the
    /// [`Limits`]' problems first, as [`Limits::validate`] names them).
    pub fn validate(&self) -> Result<(), EngineError> {
        let mut problems = Vec::new();
        self.limits.check(&mut problems);
        let mut problem = |field, text: String| {
            problems.push(ConfigProblem {
                field,
                problem: text,
            })
        };
        if self.epoch_tick.is_zero() {
            problem(
                "epoch_tick",
                "is zero; use at least 100µs (1ms is the default)".into(),
            );
        } else if self.epoch_tick > Duration::from_secs(1) {
            problem(
                "epoch_tick",
                format!(
                    "{:?} makes deadlines coarser than a second; use 1ms to 100ms",
                    self.epoch_tick
                ),
            );
        }
        if self.max_wasm_stack < 64 * 1024 || self.max_wasm_stack > 64 * 1024 * 1024 {
            problem(
                "max_wasm_stack",
                format!(
                    "{} bytes is outside 64 KiB..=64 MiB (1 MiB is the default)",
                    self.max_wasm_stack
                ),
            );
        }
        for (field, value) in [
            ("max_core_instances", self.max_core_instances),
            ("max_tables", self.max_tables),
            ("max_memories", self.max_memories),
        ] {
            if value == 0 {
                problem(field, "is 0: no component could run".into());
            }
        }
        if self.max_table_elements == 0 {
            problem("max_table_elements", "is 0: no component could run".into());
        }
        if self.incremental_cache.is_some() && self.strategy == CompilationStrategy::Winch {
            problem(
                "incremental_cache",
                "is set with the Winch compiler, which has no incremental cache; set it to None \
                 or compile with Cranelift"
                    .into(),
            );
        }
        if self.coverage && !cfg!(feature = "coverage") {
            problem(
                "coverage",
                "is on, but torvyn-engine was built without its `coverage` feature; enable it \
                 (torvyn-harness enables it by default)"
                    .into(),
            );
        } else if self.coverage && self.strategy == CompilationStrategy::Winch {
            problem(
                "coverage",
                "is on with the Winch compiler, which has no guest debugging to record it; \
                 turn coverage off or compile with Cranelift"
                    .into(),
            );
        }
        if let Some(pool) = &self.pooling {
            if pool.total_component_instances == 0 {
                problem(
                    "pooling.total_component_instances",
                    "is 0: no instance could be created".into(),
                );
            }
            if (pool.total_core_instances as u64) < (pool.total_component_instances as u64) {
                problem(
                    "pooling.total_core_instances",
                    format!(
                        "{} is less than total_component_instances ({}): every component needs \
                         at least one core instance",
                        pool.total_core_instances, pool.total_component_instances
                    ),
                );
            }
            if pool.total_memories == 0 {
                problem(
                    "pooling.total_memories",
                    "is 0: no component could run".into(),
                );
            }
        }
        problems_to_result(problems)
    }

    /// The host-resource limits this configuration gives each instance.
    pub fn resource_limits(&self) -> ResourceLimits {
        self.limits.resource_limits()
    }
}
