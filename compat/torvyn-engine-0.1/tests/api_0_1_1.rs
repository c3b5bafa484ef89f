//! Every public item of torvyn-engine 0.1.1, named with its signature: if
//! this file compiles, code written against 0.1.1's API finds the same
//! items here.
//!
//! How each kind of item is checked:
//! - functions and methods: coerced to a `fn` pointer of 0.1.1's signature
//!   (a different parameter or return type does not coerce);
//! - the two traits: implemented for probe types with 0.1.1's exact method
//!   signatures (`#[async_trait]` as published), and required of the four
//!   engine and invoker types;
//! - structs with public fields: built with a struct literal naming every
//!   field, without `..` (a field added, removed or retyped fails);
//! - enums: matched exhaustively, every variant with every field named;
//! - derives, trait impls and auto traits: required by bounds;
//! - module paths: imported by their 0.1.1 paths.
//!
//! The one deliberate difference: `WasmtimeEngine::inner` returns a
//! Wasmtime 48 `Engine` where 0.1.1's returned a Wasmtime 42 one (0.1.2
//! runs on Wasmtime 48); the signature is otherwise the same.
//!
//! Built with the default features plus `mock` (0.1.1's full surface).
#![cfg(all(feature = "wasmtime-backend", feature = "mock"))]

use std::fmt::{Debug, Display};
use std::path::PathBuf;

use async_trait::async_trait;
use torvyn_types::{
    BackpressureSignal, BufferHandle, ComponentId, ComponentTypeId, ElementMeta, ProcessError,
    ResourceId, TorvynError,
};

// Module paths, as 0.1.1 laid them out.
use torvyn_engine::cache::CompiledComponentCache;
use torvyn_engine::config::{CompilationStrategy, WasmtimeEngineConfig};
use torvyn_engine::error::EngineError;
use torvyn_engine::mock::{MockEngine, MockInvoker};
use torvyn_engine::traits::{ComponentInvoker, WasmEngine};
use torvyn_engine::types::{
    CompiledComponent, ComponentInstance, ImportBindings, InvocationResult, MockCompiledComponent,
    OutputElement, ProcessResult, StreamElement,
};
use torvyn_engine::wasmtime_engine::WasmtimeEngine;
use torvyn_engine::wasmtime_invoker::WasmtimeInvoker;

// The crate root's re-exports, as 0.1.1 had them.
#[allow(unused_imports)]
use torvyn_engine::{
    CompilationStrategy as _, CompiledComponent as _, CompiledComponentCache as _,
    ComponentInstance as _, ComponentInvoker as _, EngineError as _, ImportBindings as _,
    InvocationResult as _, OutputElement as _, ProcessResult as _, StreamElement as _,
    WasmEngine as _, WasmtimeEngine as _, WasmtimeEngineConfig as _, WasmtimeInvoker as _,
};

fn send_sync<T: Send + Sync + 'static>() {}
fn clone_debug<T: Clone + Debug>() {}
fn debug<T: Debug>() {}
fn default<T: Default>() {}

#[test]
fn traits_and_auto_traits_are_0_1_1s() {
    // Derives and trait impls.
    clone_debug::<CompiledComponent>();
    clone_debug::<MockCompiledComponent>();
    debug::<ComponentInstance>();
    debug::<ImportBindings>();
    clone_debug::<StreamElement>();
    clone_debug::<OutputElement>();
    clone_debug::<ProcessResult>();
    clone_debug::<InvocationResult>();
    clone_debug::<WasmtimeEngineConfig>();
    default::<WasmtimeEngineConfig>();
    fn copy_eq<T: Copy + Clone + Debug + Default + PartialEq + Eq>() {}
    copy_eq::<CompilationStrategy>();
    fn error<T: std::error::Error + Debug + Display>() {}
    error::<EngineError>();
    fn into_torvyn<T: Into<TorvynError>>() {}
    into_torvyn::<EngineError>();
    default::<WasmtimeInvoker>();
    default::<MockEngine>();
    default::<MockInvoker>();
    // The engines and invokers implement the traits.
    fn engine<E: WasmEngine>() {}
    fn invoker<I: ComponentInvoker>() {}
    engine::<WasmtimeEngine>();
    engine::<MockEngine>();
    invoker::<WasmtimeInvoker>();
    invoker::<MockInvoker>();
    // Auto traits: 0.1.1's types were all Send + Sync.
    send_sync::<CompiledComponent>();
    send_sync::<MockCompiledComponent>();
    send_sync::<ComponentInstance>();
    send_sync::<ImportBindings>();
    send_sync::<StreamElement>();
    send_sync::<OutputElement>();
    send_sync::<ProcessResult>();
    send_sync::<InvocationResult>();
    send_sync::<WasmtimeEngineConfig>();
    send_sync::<CompilationStrategy>();
    send_sync::<EngineError>();
    send_sync::<CompiledComponentCache>();
    send_sync::<WasmtimeEngine>();
    send_sync::<WasmtimeInvoker>();
    send_sync::<MockEngine>();
    send_sync::<MockInvoker>();
}

#[test]
// The signatures are spelled out on purpose.
#[allow(clippy::type_complexity)]
fn inherent_functions_have_0_1_1s_signatures() {
    // CompiledComponentCache.
    let _: fn(Option<PathBuf>) -> CompiledComponentCache = CompiledComponentCache::new;
    let _: fn(&[u8]) -> ComponentTypeId = CompiledComponentCache::compute_type_id;
    let _: fn(
        &CompiledComponentCache,
        &ComponentTypeId,
        &WasmtimeEngine,
    ) -> Result<Option<CompiledComponent>, EngineError> = CompiledComponentCache::get;
    let _: fn(&CompiledComponentCache, ComponentTypeId, CompiledComponent, &MockEngine) =
        CompiledComponentCache::insert;
    let _: fn(&CompiledComponentCache) -> usize = CompiledComponentCache::len;
    let _: fn(&CompiledComponentCache) -> bool = CompiledComponentCache::is_empty;
    let _: fn(&CompiledComponentCache) = CompiledComponentCache::clear;
    let _: fn(
        &CompiledComponentCache,
        &[u8],
        &MockEngine,
    ) -> Result<(ComponentTypeId, CompiledComponent), EngineError> =
        CompiledComponentCache::compile_or_get;
    // WasmtimeEngineConfig.
    let _: fn(&WasmtimeEngineConfig) -> Vec<String> = WasmtimeEngineConfig::validate;
    // EngineError.
    let _: fn(&EngineError) -> bool = EngineError::is_fatal;
    let _: fn(&EngineError) -> bool = EngineError::is_retryable;
    let _: fn(&EngineError) -> &'static str = EngineError::code;
    // ComponentInstance.
    let _: fn(&ComponentInstance) -> ComponentId = ComponentInstance::component_id;
    let _: fn(&ComponentInstance) -> bool = ComponentInstance::has_lifecycle;
    let _: fn(&ComponentInstance) -> bool = ComponentInstance::has_processor;
    let _: fn(&ComponentInstance) -> bool = ComponentInstance::has_source;
    let _: fn(&ComponentInstance) -> bool = ComponentInstance::has_sink;
    // ProcessResult.
    let _: fn(&ProcessResult) -> bool = ProcessResult::has_output;
    let _: fn(&ProcessResult) -> usize = ProcessResult::output_count;
    // WasmtimeEngine (`inner`: Wasmtime 48's Engine, see the file's doc).
    let _: fn(WasmtimeEngineConfig) -> Result<WasmtimeEngine, EngineError> = WasmtimeEngine::new;
    let _: fn(&WasmtimeEngine) -> &wasmtime::Engine = WasmtimeEngine::inner;
    let _: fn(&WasmtimeEngine) -> &WasmtimeEngineConfig = WasmtimeEngine::config;
    // WasmtimeInvoker.
    let _: fn() -> WasmtimeInvoker = WasmtimeInvoker::new;
    // MockEngine and MockInvoker.
    let _: fn() -> MockEngine = MockEngine::new;
    let _: fn() -> ImportBindings = MockEngine::mock_imports;
    let _: fn() -> MockInvoker = MockInvoker::new;
    let _: fn(&MockInvoker) -> u64 = MockInvoker::invocation_count;
    // The traits' synchronous methods, through the concrete engines.
    let _: fn(&WasmtimeEngine, &[u8]) -> Result<CompiledComponent, EngineError> =
        <WasmtimeEngine as WasmEngine>::compile_component;
    let _: fn(&MockEngine, &CompiledComponent) -> Result<Vec<u8>, EngineError> =
        <MockEngine as WasmEngine>::serialize_component;
    let _: unsafe fn(&MockEngine, &[u8]) -> Result<Option<CompiledComponent>, EngineError> =
        <MockEngine as WasmEngine>::deserialize_component;
    let _: fn(&MockEngine, &mut ComponentInstance, u64) -> Result<(), EngineError> =
        <MockEngine as WasmEngine>::set_fuel;
    let _: fn(&MockEngine, &ComponentInstance) -> Option<u64> =
        <MockEngine as WasmEngine>::fuel_remaining;
    let _: fn(&MockEngine, &ComponentInstance) -> usize = <MockEngine as WasmEngine>::memory_usage;
}

#[test]
fn structs_and_enums_have_0_1_1s_fields_and_variants() {
    let meta = ElementMeta::new(0, 0, String::new());
    let payload = BufferHandle::new(ResourceId::new(0, 0));
    let element = StreamElement {
        meta: meta.clone(),
        payload,
    };
    let output = OutputElement {
        meta: element.meta.clone(),
        payload: element.payload,
    };
    let _ = InvocationResult {
        component_id: ComponentId::new(1),
        function_name: "process",
        fuel_consumed: 0,
        duration_ns: 0,
        success: true,
    };
    let config = WasmtimeEngineConfig {
        fuel_enabled: true,
        default_fuel: 1,
        fuel_yield_interval: 0,
        max_memory_bytes: 1,
        max_table_elements: 1,
        max_instances: 1,
        strategy: CompilationStrategy::Cranelift,
        simd_enabled: true,
        multi_memory: false,
        cache_dir: None::<PathBuf>,
        compilation_threads: None::<usize>,
        stack_size: 1,
    };
    let _: CompilationStrategy = config.strategy;
    for r in [
        ProcessResult::Output(output.clone()),
        ProcessResult::Filtered,
        ProcessResult::Multiple(vec![output]),
    ] {
        match r {
            ProcessResult::Output(OutputElement {
                meta: _,
                payload: _,
            }) => {}
            ProcessResult::Filtered => {}
            ProcessResult::Multiple(_v) => {}
        }
    }
    match CompilationStrategy::default() {
        CompilationStrategy::Cranelift | CompilationStrategy::Winch => {}
    }
    let id = ComponentId::new(1);
    let errors = [
        EngineError::CompilationFailed {
            reason: String::new(),
            source_hint: None::<String>,
        },
        EngineError::DeserializationFailed {
            reason: String::new(),
        },
        EngineError::InstantiationFailed {
            component_id: id,
            reason: String::new(),
        },
        EngineError::UnresolvedImport {
            component_id: id,
            import_name: String::new(),
        },
        EngineError::Trap {
            component_id: id,
            trap_code: String::new(),
        },
        EngineError::FuelExhausted {
            component_id: id,
            fuel_limit: 0u64,
        },
        EngineError::MemoryLimitExceeded {
            component_id: id,
            attempted_bytes: 0usize,
            limit_bytes: 0usize,
        },
        EngineError::TypeMismatch {
            component_id: id,
            function_name: String::new(),
            detail: String::new(),
        },
        EngineError::ExportNotFound {
            component_id: id,
            function_name: String::new(),
        },
        EngineError::Internal {
            reason: String::new(),
        },
        EngineError::WasiConfigError {
            component_id: id,
            reason: String::new(),
        },
        EngineError::InvocationTimeout {
            component_id: id,
            function_name: String::new(),
            timeout_ms: 0u64,
        },
    ];
    for e in errors {
        match e {
            EngineError::CompilationFailed {
                reason: _,
                source_hint: _,
            }
            | EngineError::DeserializationFailed { reason: _ }
            | EngineError::InstantiationFailed {
                component_id: _,
                reason: _,
            }
            | EngineError::UnresolvedImport {
                component_id: _,
                import_name: _,
            }
            | EngineError::Trap {
                component_id: _,
                trap_code: _,
            }
            | EngineError::FuelExhausted {
                component_id: _,
                fuel_limit: _,
            }
            | EngineError::MemoryLimitExceeded {
                component_id: _,
                attempted_bytes: _,
                limit_bytes: _,
            }
            | EngineError::TypeMismatch {
                component_id: _,
                function_name: _,
                detail: _,
            }
            | EngineError::ExportNotFound {
                component_id: _,
                function_name: _,
            }
            | EngineError::Internal { reason: _ }
            | EngineError::WasiConfigError {
                component_id: _,
                reason: _,
            }
            | EngineError::InvocationTimeout {
                component_id: _,
                function_name: _,
                timeout_ms: _,
            } => {}
        }
    }
}

// The traits, implemented with 0.1.1's exact signatures (an impl whose
// signature differs from the trait's does not compile).

struct ProbeEngine;
struct ProbeInvoker;

#[async_trait]
impl WasmEngine for ProbeEngine {
    fn compile_component(&self, _bytes: &[u8]) -> Result<CompiledComponent, EngineError> {
        unimplemented!()
    }
    fn serialize_component(&self, _compiled: &CompiledComponent) -> Result<Vec<u8>, EngineError> {
        unimplemented!()
    }
    unsafe fn deserialize_component(
        &self,
        _bytes: &[u8],
    ) -> Result<Option<CompiledComponent>, EngineError> {
        unimplemented!()
    }
    async fn instantiate(
        &self,
        _compiled: &CompiledComponent,
        _imports: ImportBindings,
        _component_id: ComponentId,
    ) -> Result<ComponentInstance, EngineError> {
        unimplemented!()
    }
    fn set_fuel(&self, _instance: &mut ComponentInstance, _fuel: u64) -> Result<(), EngineError> {
        unimplemented!()
    }
    fn fuel_remaining(&self, _instance: &ComponentInstance) -> Option<u64> {
        unimplemented!()
    }
    fn memory_usage(&self, _instance: &ComponentInstance) -> usize {
        unimplemented!()
    }
}

#[async_trait]
impl ComponentInvoker for ProbeInvoker {
    async fn invoke_pull(
        &self,
        _instance: &mut ComponentInstance,
        _component_id: ComponentId,
    ) -> Result<Option<OutputElement>, ProcessError> {
        unimplemented!()
    }
    async fn invoke_process(
        &self,
        _instance: &mut ComponentInstance,
        _component_id: ComponentId,
        _element: StreamElement,
    ) -> Result<ProcessResult, ProcessError> {
        unimplemented!()
    }
    async fn invoke_push(
        &self,
        _instance: &mut ComponentInstance,
        _component_id: ComponentId,
        _element: StreamElement,
    ) -> Result<BackpressureSignal, ProcessError> {
        unimplemented!()
    }
    async fn invoke_init(
        &self,
        _instance: &mut ComponentInstance,
        _component_id: ComponentId,
        _config: &str,
    ) -> Result<(), ProcessError> {
        unimplemented!()
    }
    async fn invoke_teardown(&self, _instance: &mut ComponentInstance, _component_id: ComponentId) {
    }
}

#[test]
fn the_traits_take_0_1_1s_implementations_and_supertraits() {
    fn bounds<T: Send + Sync + 'static>() {}
    fn engine<E: WasmEngine>() {
        bounds::<E>();
    }
    fn invoker<I: ComponentInvoker>() {
        bounds::<I>();
    }
    engine::<ProbeEngine>();
    invoker::<ProbeInvoker>();
    // Object safety, as async_trait gave 0.1.1's traits.
    let _: Option<Box<dyn ComponentInvoker>> = Some(Box::new(ProbeInvoker));
    let _: Option<Box<dyn WasmEngine>> = Some(Box::new(ProbeEngine));
}
