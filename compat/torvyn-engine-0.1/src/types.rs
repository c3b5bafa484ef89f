//! The types of the 0.1 API: compiled components, instances, import
//! bindings, and the elements that cross [`crate::ComponentInvoker`].
//!
//! Elements carry a [`BufferHandle`], not bytes: the handle names bytes in
//! the invoker's [`crate::Payloads`].

use torvyn_types::{BufferHandle, ComponentId, ElementMeta};

// ---------------------------------------------------------------------------
// CompiledComponent
// ---------------------------------------------------------------------------

/// A compiled component, ready to instantiate. Cheap to clone.
///
/// Made by [`crate::WasmEngine::compile_component`] or
/// [`crate::WasmEngine::deserialize_component`]; an instance of it can only
/// be made by an engine of the same backend.
#[derive(Clone)]
pub struct CompiledComponent {
    pub(crate) inner: CompiledComponentInner,
}

#[derive(Clone)]
pub(crate) enum CompiledComponentInner {
    #[cfg(feature = "wasmtime-backend")]
    Wasmtime(v2::wasmtime::WasmtimeCompiled),
    #[cfg(feature = "mock")]
    Mock(MockCompiledComponent),
    /// A compiled component of no backend (a build without either one).
    #[allow(dead_code)]
    _Placeholder,
}

/// A mock compiled component: one of 0.2's mock models, or 0.1.1's canned
/// component.
#[cfg(feature = "mock")]
#[derive(Clone, Debug)]
pub struct MockCompiledComponent {
    /// The number the engine gave it (0, 1, 2... per engine).
    #[allow(dead_code)]
    pub(crate) id: u64,
    /// The model, or `None` for the canned component.
    pub(crate) model: Option<v2::mock::MockCompiled>,
}

impl std::fmt::Debug for CompiledComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            #[cfg(feature = "wasmtime-backend")]
            CompiledComponentInner::Wasmtime(c) => {
                write!(f, "CompiledComponent(wasmtime, roles: {})", c.roles())
            }
            #[cfg(feature = "mock")]
            CompiledComponentInner::Mock(m) => match &m.model {
                Some(model) => write!(f, "CompiledComponent(mock model, roles: {})", model.roles()),
                None => write!(f, "CompiledComponent(mock, canned)"),
            },
            CompiledComponentInner::_Placeholder => write!(f, "CompiledComponent"),
        }
    }
}

// ---------------------------------------------------------------------------
// ComponentInstance
// ---------------------------------------------------------------------------

/// A live component instance, handed to [`crate::ComponentInvoker`] calls.
///
/// Made by [`crate::WasmEngine::instantiate`]. Its roles were read from the
/// component's exports: `has_processor` is true when it exports
/// `torvyn:streaming/processor`, and so on.
pub struct ComponentInstance {
    pub(crate) component_id: ComponentId,
    pub(crate) inner: InstanceCell,
    pub(crate) has_lifecycle: bool,
    pub(crate) has_processor: bool,
    pub(crate) has_source: bool,
    pub(crate) has_sink: bool,
    pub(crate) last_invocation: Option<InvocationResult>,
}

/// The instance behind a mutex, so that [`ComponentInstance`] is `Sync` as
/// 0.1.1's was (0.2's instances are `Send` only): calls reach it through
/// `&mut` without locking ([`InstanceCell::get_mut`]); only the `&self`
/// queries of [`crate::WasmEngine`] (fuel, memory) lock it.
pub(crate) struct InstanceCell(std::sync::Mutex<ComponentInstanceInner>);

impl InstanceCell {
    pub fn new(inner: ComponentInstanceInner) -> Self {
        Self(std::sync::Mutex::new(inner))
    }

    pub fn get_mut(&mut self) -> &mut ComponentInstanceInner {
        self.0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn with<R>(&self, f: impl FnOnce(&ComponentInstanceInner) -> R) -> R {
        f(&self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

pub(crate) enum ComponentInstanceInner {
    #[cfg(feature = "wasmtime-backend")]
    Wasmtime(Box<crate::wasmtime_engine::WasmtimeInstance>),
    #[cfg(feature = "mock")]
    Mock(Box<crate::mock::MockInstance>),
    /// An instance of no backend (a build without either one).
    #[allow(dead_code)]
    _Placeholder,
}

impl ComponentInstance {
    /// The id the instance was created with.
    #[inline]
    pub fn component_id(&self) -> ComponentId {
        self.component_id
    }

    /// Whether the component exports `torvyn:streaming/lifecycle`.
    #[inline]
    pub fn has_lifecycle(&self) -> bool {
        self.has_lifecycle
    }

    /// Whether the component exports `torvyn:streaming/processor`.
    #[inline]
    pub fn has_processor(&self) -> bool {
        self.has_processor
    }

    /// Whether the component exports `torvyn:streaming/source`.
    #[inline]
    pub fn has_source(&self) -> bool {
        self.has_source
    }

    /// Whether the component exports `torvyn:streaming/sink`.
    #[inline]
    pub fn has_sink(&self) -> bool {
        self.has_sink
    }

    /// What the instance's last call cost and whether it succeeded (`None`
    /// before its first call). New in 0.1.2: 0.2 measures every call.
    #[inline]
    pub fn last_invocation(&self) -> Option<&InvocationResult> {
        self.last_invocation.as_ref()
    }
}

impl std::fmt::Debug for ComponentInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentInstance")
            .field("component_id", &self.component_id)
            .field("has_lifecycle", &self.has_lifecycle)
            .field("has_processor", &self.has_processor)
            .field("has_source", &self.has_source)
            .field("has_sink", &self.has_sink)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// ImportBindings
// ---------------------------------------------------------------------------

/// What an instance's imports are bound to.
///
/// On Wasmtime: the engine's WASI p2 and contract host functions, from
/// [`crate::WasmtimeEngine::imports`] (nothing granted). On the mock:
/// [`crate::mock::MockEngine::mock_imports`].
pub struct ImportBindings {
    pub(crate) inner: ImportBindingsInner,
}

#[allow(dead_code)]
pub(crate) enum ImportBindingsInner {
    /// The bindings of the Wasmtime engine with this number.
    #[cfg(feature = "wasmtime-backend")]
    Wasmtime {
        engine: u64,
    },
    #[cfg(feature = "mock")]
    Mock,
    _Placeholder,
}

impl std::fmt::Debug for ImportBindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            #[cfg(feature = "wasmtime-backend")]
            ImportBindingsInner::Wasmtime { .. } => {
                write!(f, "ImportBindings(wasmtime: WASI p2 and torvyn:streaming)")
            }
            #[cfg(feature = "mock")]
            ImportBindingsInner::Mock => write!(f, "ImportBindings(mock)"),
            ImportBindingsInner::_Placeholder => write!(f, "ImportBindings"),
        }
    }
}

// ---------------------------------------------------------------------------
// Elements
// ---------------------------------------------------------------------------

/// An element handed to a processor or a sink.
///
/// # Example
/// ```
/// use torvyn_engine::{Payloads, StreamElement};
/// use torvyn_types::ElementMeta;
///
/// let payloads = Payloads::new();
/// let element = StreamElement {
///     meta: ElementMeta::new(0, 1_000_000, "text/plain".into()),
///     payload: payloads.insert("hello"),
/// };
/// assert_eq!(payloads.get(element.payload).as_deref(), Some(&b"hello"[..]));
/// ```
#[derive(Clone, Debug)]
pub struct StreamElement {
    /// The element's metadata.
    pub meta: ElementMeta,
    /// The payload: bytes in the invoker's [`crate::Payloads`].
    pub payload: BufferHandle,
}

/// An element a source or processor produced.
#[derive(Clone, Debug)]
pub struct OutputElement {
    /// The metadata the component returned (its sequence number and
    /// timestamp are advisory).
    pub meta: ElementMeta,
    /// The payload: a fresh handle in the invoker's [`crate::Payloads`].
    pub payload: BufferHandle,
}

/// What a processor did with an element.
#[derive(Clone, Debug)]
pub enum ProcessResult {
    /// It produced an element (0.2: `ProcessResult::Emit`).
    Output(OutputElement),
    /// It dropped the element (0.2: `ProcessResult::Drop`).
    Filtered,
    /// Several elements. No `torvyn:streaming@0.1.0` processor returns more
    /// than one, so the invokers never produce this; a host's own invoker
    /// may.
    Multiple(Vec<OutputElement>),
}

impl ProcessResult {
    /// Whether the processor produced any element.
    #[inline]
    pub fn has_output(&self) -> bool {
        !matches!(self, ProcessResult::Filtered)
    }

    /// How many elements the processor produced.
    #[inline]
    pub fn output_count(&self) -> usize {
        match self {
            ProcessResult::Output(_) => 1,
            ProcessResult::Filtered => 0,
            ProcessResult::Multiple(v) => v.len(),
        }
    }
}

/// What one call cost ([`ComponentInstance::last_invocation`]).
#[derive(Clone, Debug)]
pub struct InvocationResult {
    /// The instance called.
    pub component_id: ComponentId,
    /// The function called (`process`, `pull`, `push`, `init`, `teardown`).
    pub function_name: &'static str,
    /// Fuel the guest consumed (0 with fuel metering off).
    pub fuel_consumed: u64,
    /// How long the call took, in nanoseconds.
    pub duration_ns: u64,
    /// Whether the call returned a value (not a `process-error`, not a
    /// fault).
    pub success: bool,
}
