//! [`EngineError`]: the 0.1 API's cold-path errors, codes E0800 to E0811.
//!
//! Errors from the 0.2 engine underneath are mapped onto these variants
//! with 0.2's message as the reason: a compile error (including a component
//! that imports something the engine does not provide) is
//! [`EngineError::CompilationFailed`], an instantiation error
//! [`EngineError::InstantiationFailed`], damaged compiled code
//! [`EngineError::DeserializationFailed`], an invalid configuration
//! [`EngineError::Internal`].

use thiserror::Error;
use torvyn_types::ComponentId;

/// An error of the engine layer.
///
/// Every message starts with its code (`[E0800]`...) and says what to do.
///
/// ```
/// use torvyn_engine::EngineError;
///
/// let err = EngineError::CompilationFailed {
///     reason: "not a component".into(),
///     source_hint: Some("upper.wasm".into()),
/// };
/// assert_eq!(err.code(), "E0800");
/// assert!(err.to_string().starts_with("[E0800]"));
/// assert!(err.to_string().contains("upper.wasm"));
/// ```
#[derive(Debug, Error)]
pub enum EngineError {
    /// A component did not compile.
    #[error(
        "[E0800] cannot compile{}: {reason}. Check that the file is a WebAssembly \
         component built against torvyn:streaming@0.1.0",
        source_hint.as_ref().map(|s| format!(" {s}")).unwrap_or_default()
    )]
    CompilationFailed {
        /// Why.
        reason: String,
        /// Where the bytes came from, if known.
        source_hint: Option<String>,
    },

    /// Compiled code could not be loaded.
    #[error(
        "[E0801] cannot load compiled code: {reason}. The compiled-component cache may be \
         stale or damaged: delete it and compile again"
    )]
    DeserializationFailed {
        /// Why.
        reason: String,
    },

    /// Instantiation failed.
    #[error(
        "[E0802] cannot instantiate {component_id}: {reason}. Check the component's imports \
         and the engine's limits"
    )]
    InstantiationFailed {
        /// The instance being created.
        component_id: ComponentId,
        /// Why.
        reason: String,
    },

    /// An import could not be resolved.
    #[error(
        "[E0803] {component_id} imports `{import_name}`, which the engine does not provide. \
         Rebuild the component without it"
    )]
    UnresolvedImport {
        /// The instance.
        component_id: ComponentId,
        /// The import.
        import_name: String,
    },

    /// The component trapped.
    #[error("[E0804] {component_id} trapped: {trap_code}. The component has a bug: fix it")]
    Trap {
        /// The instance.
        component_id: ComponentId,
        /// What the trap was.
        trap_code: String,
    },

    /// The component used up its fuel.
    #[error(
        "[E0805] {component_id} used up its fuel budget of {fuel_limit} units. Raise the \
         budget if the work is legitimate, else fix the component"
    )]
    FuelExhausted {
        /// The instance.
        component_id: ComponentId,
        /// The budget.
        fuel_limit: u64,
    },

    /// The component went over its memory limit.
    #[error(
        "[E0806] {component_id} asked for {attempted_bytes} bytes of memory, over its limit \
         of {limit_bytes}. Raise `max_memory_bytes` or reduce the component's memory use"
    )]
    MemoryLimitExceeded {
        /// The instance.
        component_id: ComponentId,
        /// What it asked for.
        attempted_bytes: usize,
        /// The limit.
        limit_bytes: usize,
    },

    /// A call's arguments or results had other types than the contract's.
    #[error(
        "[E0807] `{function_name}` of {component_id} has other types than expected: \
         {detail}. Build the component against torvyn:streaming@0.1.0's WIT"
    )]
    TypeMismatch {
        /// The instance.
        component_id: ComponentId,
        /// The function.
        function_name: String,
        /// What differed.
        detail: String,
    },

    /// The component does not export a function.
    #[error(
        "[E0808] {component_id} does not export `{function_name}`. Build it for a \
         torvyn:streaming world that exports it (e.g. `transform` for `process`)"
    )]
    ExportNotFound {
        /// The instance.
        component_id: ComponentId,
        /// The function.
        function_name: String,
    },

    /// The engine failed, or was misused (an invalid configuration, bindings
    /// or an instance of another engine).
    #[error("[E0809] engine error: {reason}")]
    Internal {
        /// What happened and what to do.
        reason: String,
    },

    /// WASI could not be set up.
    #[error("[E0810] cannot set up WASI for {component_id}: {reason}")]
    WasiConfigError {
        /// The instance.
        component_id: ComponentId,
        /// Why.
        reason: String,
    },

    /// A call took too long.
    #[error(
        "[E0811] `{function_name}` of {component_id} did not finish within {timeout_ms} ms. \
         Raise the timeout if the work is legitimate"
    )]
    InvocationTimeout {
        /// The instance.
        component_id: ComponentId,
        /// The function.
        function_name: String,
        /// The timeout.
        timeout_ms: u64,
    },
}

impl EngineError {
    /// Whether the error leaves the component unusable: a trap, fuel
    /// exhaustion, a memory limit.
    #[inline]
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            EngineError::Trap { .. }
                | EngineError::FuelExhausted { .. }
                | EngineError::MemoryLimitExceeded { .. }
        )
    }

    /// Whether trying again may succeed (a timeout).
    #[inline]
    pub fn is_retryable(&self) -> bool {
        matches!(self, EngineError::InvocationTimeout { .. })
    }

    /// The error's code, `E0800` to `E0811`, for metrics labels.
    #[inline]
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::CompilationFailed { .. } => "E0800",
            EngineError::DeserializationFailed { .. } => "E0801",
            EngineError::InstantiationFailed { .. } => "E0802",
            EngineError::UnresolvedImport { .. } => "E0803",
            EngineError::Trap { .. } => "E0804",
            EngineError::FuelExhausted { .. } => "E0805",
            EngineError::MemoryLimitExceeded { .. } => "E0806",
            EngineError::TypeMismatch { .. } => "E0807",
            EngineError::ExportNotFound { .. } => "E0808",
            EngineError::Internal { .. } => "E0809",
            EngineError::WasiConfigError { .. } => "E0810",
            EngineError::InvocationTimeout { .. } => "E0811",
        }
    }
}

/// As 0.1.1 converts: compilation and instantiation failures to their
/// `torvyn_types::EngineError` counterparts, anything else to
/// `CompilationFailed` with the whole message as the reason.
impl From<EngineError> for torvyn_types::TorvynError {
    fn from(e: EngineError) -> Self {
        use torvyn_types::EngineError as Types;
        let converted = match e {
            EngineError::CompilationFailed {
                reason,
                source_hint,
            } => Types::CompilationFailed {
                module: source_hint.unwrap_or_default(),
                reason,
            },
            EngineError::InstantiationFailed {
                component_id,
                reason,
            } => Types::InstantiationFailed {
                module: component_id.to_string(),
                reason,
            },
            other => Types::CompilationFailed {
                module: String::new(),
                reason: other.to_string(),
            },
        };
        torvyn_types::TorvynError::Engine(converted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<EngineError> {
        let id = ComponentId::new(7);
        vec![
            EngineError::CompilationFailed {
                reason: "r".into(),
                source_hint: None,
            },
            EngineError::DeserializationFailed { reason: "r".into() },
            EngineError::InstantiationFailed {
                component_id: id,
                reason: "r".into(),
            },
            EngineError::UnresolvedImport {
                component_id: id,
                import_name: "wasi:http/types".into(),
            },
            EngineError::Trap {
                component_id: id,
                trap_code: "unreachable".into(),
            },
            EngineError::FuelExhausted {
                component_id: id,
                fuel_limit: 5,
            },
            EngineError::MemoryLimitExceeded {
                component_id: id,
                attempted_bytes: 2,
                limit_bytes: 1,
            },
            EngineError::TypeMismatch {
                component_id: id,
                function_name: "process".into(),
                detail: "d".into(),
            },
            EngineError::ExportNotFound {
                component_id: id,
                function_name: "process".into(),
            },
            EngineError::Internal { reason: "r".into() },
            EngineError::WasiConfigError {
                component_id: id,
                reason: "r".into(),
            },
            EngineError::InvocationTimeout {
                component_id: id,
                function_name: "process".into(),
                timeout_ms: 5,
            },
        ]
    }

    #[test]
    fn codes_run_from_e0800_to_e0811_in_order_and_open_every_message() {
        for (i, e) in every_variant().iter().enumerate() {
            let code = format!("E08{i:02}");
            assert_eq!(e.code(), code);
            assert!(
                e.to_string().starts_with(&format!("[{code}]")),
                "{e} does not start with its code"
            );
        }
    }

    #[test]
    fn fatal_and_retryable_are_the_trap_fuel_memory_and_timeout_variants() {
        let fatal: Vec<_> = every_variant()
            .iter()
            .filter(|e| e.is_fatal())
            .map(EngineError::code)
            .collect();
        assert_eq!(fatal, ["E0804", "E0805", "E0806"]);
        let retryable: Vec<_> = every_variant()
            .iter()
            .filter(|e| e.is_retryable())
            .map(EngineError::code)
            .collect();
        assert_eq!(retryable, ["E0811"]);
    }

    #[test]
    fn conversion_to_torvyn_error_keeps_the_module_and_reason() {
        let e: torvyn_types::TorvynError = EngineError::InstantiationFailed {
            component_id: ComponentId::new(3),
            reason: "start-up trapped".into(),
        }
        .into();
        let torvyn_types::TorvynError::Engine(torvyn_types::EngineError::InstantiationFailed {
            module,
            reason,
        }) = e
        else {
            panic!("expected InstantiationFailed, got {e:?}");
        };
        assert_eq!(
            (module.as_str(), reason.as_str()),
            ("component-3", "start-up trapped")
        );
        let e: torvyn_types::TorvynError = EngineError::Internal {
            reason: "bad config".into(),
        }
        .into();
        assert!(e.to_string().contains("bad config"), "{e}");
    }
}
