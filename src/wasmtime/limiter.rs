//! Linear memory, table and instance limits of one store.
//!
//! Hot path only when a guest grows memory. A refused growth makes
//! `memory.grow` return -1 to the guest; the refusal is remembered for the
//! call, so a trap that follows it is reported as a memory-limit fault
//! rather than a bare trap.

use wasmtime::ResourceLimiter;

/// The limits of one instance, and what it uses now.
pub(crate) struct Limiter {
    max_memory_bytes: u64,
    max_table_elements: u64,
    max_instances: usize,
    max_tables: usize,
    max_memories: usize,
    /// Linear memory of all the instance's memories, in bytes.
    pub memory_bytes: u64,
    /// Set when a growth was refused during the current call:
    /// `(limit, requested)`.
    pub denied: Option<(u64, u64)>,
    /// Set when a table growth was refused (it sets `denied` too):
    /// `(limit, requested)` in elements.
    pub table_denied: Option<(u64, u64)>,
}

impl Limiter {
    pub fn new(config: &super::WasmtimeEngineConfig) -> Self {
        Self {
            max_memory_bytes: config.limits.max_memory_bytes,
            max_table_elements: config.max_table_elements,
            max_instances: config.max_core_instances,
            max_tables: config.max_tables,
            max_memories: config.max_memories,
            memory_bytes: 0,
            denied: None,
            table_denied: None,
        }
    }
}

impl Limiter {
    /// Why instantiation failed, in words: when this limiter refused the
    /// component's initial memory or tables, the limit, what the
    /// component asked for and what to do; otherwise Wasmtime's message.
    pub fn instantiation_failure(&self, e: &wasmtime::Error) -> String {
        if let Some((limit, wanted)) = self.table_denied {
            format!(
                "its tables need {wanted} elements at start, over the limit of {limit} \
                 (`WasmtimeEngineConfig::max_table_elements`) (Wasmtime: {e:#}): raise the \
                 limit"
            )
        } else if let Some((limit, wanted)) = self.denied {
            format!(
                "its linear memory needs {wanted} bytes ({}) at start, over the limit of \
                 {limit} bytes ({}, `limits.max_memory_bytes`) (Wasmtime: {e:#}): build the \
                 component with less initial memory (the stack a C toolchain reserves, for \
                 one: zig's default is 16 MiB; `-Wl,-z,stack-size=N` sets it), or raise the \
                 limit",
                mib(wanted),
                mib(limit),
            )
        } else {
            format!("{e:#}")
        }
    }
}

/// Bytes in MiB, for messages.
fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow = (desired as u64).saturating_sub(current as u64);
        let total = self.memory_bytes.saturating_add(grow);
        if total > self.max_memory_bytes {
            self.denied = Some((self.max_memory_bytes, total));
            return Ok(false);
        }
        self.memory_bytes = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.max_table_elements {
            self.denied = Some((self.max_table_elements, desired as u64));
            self.table_denied = self.denied;
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.max_instances
    }

    fn tables(&self) -> usize {
        self.max_tables
    }

    fn memories(&self) -> usize {
        self.max_memories
    }
}
