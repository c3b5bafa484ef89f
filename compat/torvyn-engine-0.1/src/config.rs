//! [`WasmtimeEngineConfig`]: the 0.1 configuration, and how it maps onto
//! 0.2's ([`WasmtimeEngineConfig::to_v2`], feature `wasmtime-backend`).

use std::path::PathBuf;

/// Which compiler turns WebAssembly into machine code.
///
/// ```
/// use torvyn_engine::CompilationStrategy;
///
/// assert_eq!(CompilationStrategy::default(), CompilationStrategy::Cranelift);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompilationStrategy {
    /// The optimizing compiler.
    #[default]
    Cranelift,
    /// The baseline compiler: compiles faster, runs slower. 0.1.1 used
    /// Cranelift for it; 0.1.2 uses Winch.
    Winch,
}

/// Configuration of [`crate::WasmtimeEngine`].
///
/// The same fields and defaults as 0.1.1. How each maps onto 0.2's
/// configuration is in [`WasmtimeEngineConfig::to_v2`]'s table; a
/// configuration 0.2 refuses (e.g. under 64 KiB of memory) makes
/// [`crate::WasmtimeEngine::new`] fail with 0.2's reasons.
///
/// ```
/// use torvyn_engine::WasmtimeEngineConfig;
///
/// let config = WasmtimeEngineConfig::default();
/// assert!(config.fuel_enabled);
/// assert_eq!(config.default_fuel, 1_000_000);
/// assert!(config.validate().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct WasmtimeEngineConfig {
    /// Meter fuel: each call gets a budget, and a call that uses it up
    /// fails with `ProcessError::DeadlineExceeded`.
    pub fuel_enabled: bool,
    /// The fuel budget of each call (and of instantiation).
    pub default_fuel: u64,
    /// Not used: 0.2 runs a call to its end on the caller's task, bounded
    /// by its fuel and its deadline, without yielding part way.
    pub fuel_yield_interval: u64,
    /// The most linear memory an instance may have, in bytes.
    pub max_memory_bytes: usize,
    /// The most elements a table may hold.
    pub max_table_elements: u32,
    /// The most core instances a component instance may create (a
    /// component made by componentize-py has about a dozen).
    pub max_instances: u32,
    /// The compiler.
    pub strategy: CompilationStrategy,
    /// Not used: SIMD is always on (as in Wasmtime's default).
    pub simd_enabled: bool,
    /// Not used: multi-memory is always on (as in Wasmtime's default).
    pub multi_memory: bool,
    /// Not used by the engine (nor was it in 0.1.1): give it to
    /// [`crate::CompiledComponentCache::new`].
    pub cache_dir: Option<PathBuf>,
    /// `Some(1)` compiles on one thread, `Some(n > 1)` or `None` on several.
    pub compilation_threads: Option<usize>,
    /// The most stack a guest may use, in bytes.
    pub stack_size: usize,
}

impl Default for WasmtimeEngineConfig {
    fn default() -> Self {
        Self {
            fuel_enabled: true,
            default_fuel: 1_000_000,
            fuel_yield_interval: 10_000,
            max_memory_bytes: 16 * 1024 * 1024,
            max_table_elements: 10_000,
            max_instances: 10,
            strategy: CompilationStrategy::Cranelift,
            simd_enabled: true,
            multi_memory: false,
            cache_dir: None,
            compilation_threads: None,
            stack_size: 1024 * 1024,
        }
    }
}

impl WasmtimeEngineConfig {
    /// The configuration's problems, one sentence each (empty: valid).
    /// These are 0.1.1's checks; [`crate::WasmtimeEngine::new`] also
    /// applies 0.2's (see [`WasmtimeEngineConfig::to_v2`]).
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.fuel_enabled && self.default_fuel == 0 {
            problems.push(
                "default_fuel is 0 with fuel metering on, so every call would fail: give a \
                 budget (1_000_000 is the default) or set fuel_enabled to false"
                    .to_owned(),
            );
        }
        if self.max_memory_bytes == 0 {
            problems.push("max_memory_bytes is 0: no component could run".to_owned());
        }
        if self.stack_size < 64 * 1024 {
            problems.push(format!(
                "stack_size is {} bytes, under 64 KiB: most components would overflow it \
                 (1 MiB is the default)",
                self.stack_size
            ));
        }
        problems
    }

    /// The 0.2 configuration this one means.
    ///
    /// | 0.1 field | 0.2 |
    /// |---|---|
    /// | `fuel_enabled` | `limits.fuel_enabled` |
    /// | `default_fuel` | `limits.fuel_per_call` |
    /// | `max_memory_bytes` | `limits.max_memory_bytes` |
    /// | `max_table_elements` | `max_table_elements` |
    /// | `max_instances` | `max_core_instances` |
    /// | `strategy` | `strategy` |
    /// | `compilation_threads` | `parallel_compilation` (`Some(1)`: off) |
    /// | `stack_size` | `max_wasm_stack` |
    /// | `fuel_yield_interval`, `simd_enabled`, `multi_memory`, `cache_dir` | not used |
    ///
    /// Everything else keeps 0.2's default: among others a 10-second
    /// deadline per call (`limits.call_deadline`), which 0.1 had no field
    /// for, and unknown imports refused at compile time
    /// (`unknown_imports`). To change those, change the result and build
    /// the engine with [`crate::WasmtimeEngine::from_v2`].
    #[cfg(feature = "wasmtime-backend")]
    pub fn to_v2(&self) -> v2::wasmtime::WasmtimeEngineConfig {
        let mut config = v2::wasmtime::WasmtimeEngineConfig::default();
        config.limits.fuel_enabled = self.fuel_enabled;
        config.limits.fuel_per_call = self.default_fuel;
        config.limits.max_memory_bytes = self.max_memory_bytes as u64;
        config.max_table_elements = u64::from(self.max_table_elements);
        config.max_core_instances = self.max_instances as usize;
        config.strategy = match self.strategy {
            CompilationStrategy::Cranelift => v2::CompilationStrategy::Cranelift,
            CompilationStrategy::Winch => v2::CompilationStrategy::Winch,
        };
        if let Some(threads) = self.compilation_threads {
            config.parallel_compilation = threads > 1;
        }
        config.max_wasm_stack = self.stack_size;
        config
    }

    /// The 0.1 configuration closest to a 0.2 one (the reverse of
    /// [`WasmtimeEngineConfig::to_v2`]; fields 0.1 does not use keep their
    /// defaults).
    #[cfg(feature = "wasmtime-backend")]
    pub fn from_v2(config: &v2::wasmtime::WasmtimeEngineConfig) -> Self {
        Self {
            fuel_enabled: config.limits.fuel_enabled,
            default_fuel: config.limits.fuel_per_call,
            max_memory_bytes: usize::try_from(config.limits.max_memory_bytes).unwrap_or(usize::MAX),
            max_table_elements: u32::try_from(config.max_table_elements).unwrap_or(u32::MAX),
            max_instances: u32::try_from(config.max_core_instances).unwrap_or(u32::MAX),
            strategy: match config.strategy {
                v2::CompilationStrategy::Cranelift => CompilationStrategy::Cranelift,
                v2::CompilationStrategy::Winch => CompilationStrategy::Winch,
            },
            compilation_threads: (!config.parallel_compilation).then_some(1),
            stack_size: config.max_wasm_stack,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_each_problem_once() {
        let c = WasmtimeEngineConfig {
            default_fuel: 0,
            max_memory_bytes: 0,
            stack_size: 1024,
            ..WasmtimeEngineConfig::default()
        };
        let problems = c.validate();
        assert_eq!(problems.len(), 3, "{problems:?}");
        for field in ["default_fuel", "max_memory_bytes", "stack_size"] {
            assert_eq!(
                problems.iter().filter(|p| p.contains(field)).count(),
                1,
                "{field}: {problems:?}"
            );
        }
        let no_fuel = WasmtimeEngineConfig {
            fuel_enabled: false,
            default_fuel: 0,
            ..WasmtimeEngineConfig::default()
        };
        assert!(no_fuel.validate().is_empty());
    }

    #[cfg(feature = "wasmtime-backend")]
    #[test]
    fn to_v2_maps_every_used_field_and_from_v2_reads_them_back() {
        let c = WasmtimeEngineConfig {
            fuel_enabled: false,
            default_fuel: 77,
            max_memory_bytes: 1 << 20,
            max_table_elements: 500,
            max_instances: 40,
            strategy: CompilationStrategy::Winch,
            compilation_threads: Some(1),
            stack_size: 256 * 1024,
            ..WasmtimeEngineConfig::default()
        };
        let v = c.to_v2();
        assert!(!v.limits.fuel_enabled);
        assert_eq!(v.limits.fuel_per_call, 77);
        assert_eq!(v.limits.max_memory_bytes, 1 << 20);
        assert_eq!(v.max_table_elements, 500);
        assert_eq!(v.max_core_instances, 40);
        assert_eq!(v.strategy, v2::CompilationStrategy::Winch);
        assert!(!v.parallel_compilation);
        assert_eq!(v.max_wasm_stack, 256 * 1024);
        let back = WasmtimeEngineConfig::from_v2(&v);
        assert_eq!(
            (
                back.fuel_enabled,
                back.default_fuel,
                back.max_memory_bytes,
                back.max_table_elements,
                back.max_instances,
                back.strategy,
                back.compilation_threads,
                back.stack_size
            ),
            (
                c.fuel_enabled,
                c.default_fuel,
                c.max_memory_bytes,
                c.max_table_elements,
                c.max_instances,
                c.strategy,
                c.compilation_threads,
                c.stack_size
            )
        );
    }
}
