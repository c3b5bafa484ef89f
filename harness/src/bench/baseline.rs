//! [`Baseline`]: the component called directly through
//! `wasmtime::component::bindgen!` bindings of the contract, on a host that
//! keeps every buffer as a `Vec<u8>` in a [`ResourceTable`] and does
//! nothing else (see the [module above](super) for what it leaves out and
//! why).
//!
//! Cold path: compiling (or loading the engine's code) and linking;
//! [`BaselineInstance`]'s calls are the hot path a comparison times.

use std::fmt;

use torvyn_engine::wasmtime::{WasmtimeCompiled, WasmtimeEngineConfig};
use torvyn_engine::wasmtime::{WasmtimeEngine, define_stubs};
use torvyn_engine::{Role, WasmEngine};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{
    Component, HasSelf, InstancePre, Linker, Resource, ResourceTable, ResourceType,
};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::BenchError;

use self::bindings::exports::torvyn::streaming::{lifecycle, processor, sink, source};
use self::bindings::torvyn::streaming::{buffer_allocator, types};

/// The baseline's bindings of the contract, generated from `wit/`.
mod bindings {
    #![allow(missing_docs)]

    /// An immutable buffer: its bytes and content type.
    pub struct BaselineBuffer {
        pub bytes: Vec<u8>,
        pub content_type: String,
    }

    /// A mutable buffer: its bytes, fixed capacity and content type.
    pub struct BaselineMutableBuffer {
        pub bytes: Vec<u8>,
        pub capacity: u64,
        pub content_type: String,
    }

    /// A flow context: only its id (empty, like the engine's default
    /// context, so neither side allocates for it).
    pub struct BaselineFlow {
        pub flow_id: String,
    }

    wasmtime::component::bindgen!({
        path: "wit",
        inline: "
            package torvyn:bench-host;

            world bench-host {
                import torvyn:streaming/types@0.1.0;
                import torvyn:streaming/buffer-allocator@0.1.0;
                export torvyn:streaming/processor@0.1.0;
                export torvyn:streaming/source@0.1.0;
                export torvyn:streaming/sink@0.1.0;
                export torvyn:streaming/lifecycle@0.1.0;
            }
        ",
        world: "bench-host",
        with: {
            "torvyn:streaming/types.buffer": BaselineBuffer,
            "torvyn:streaming/types.mutable-buffer": BaselineMutableBuffer,
            "torvyn:streaming/types.flow-context": BaselineFlow,
        },
        imports: { default: trappable },
    });
}

use self::bindings::{BaselineBuffer, BaselineFlow, BaselineMutableBuffer, BenchHost};

/// The store data of the baseline host: its resource table (which WASI's
/// resources share) and a WASI context, nothing else.
pub struct BaselineState {
    table: ResourceTable,
    wasi: WasiCtx,
}

impl BaselineState {
    fn new() -> Self {
        Self {
            table: ResourceTable::new(),
            wasi: wasi_context(),
        }
    }
}

impl WasiView for BaselineState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A WASI context that grants what the engine's grants (nothing: no files,
/// sockets, environment or arguments), with stdout and stderr discarded
/// (the engine captures them; a guest sees no difference) and the host's
/// clocks and random generators (a benchmark needs no determinism).
fn wasi_context() -> WasiCtx {
    WasiCtxBuilder::new()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

fn trap(e: impl fmt::Display) -> wasmtime::Error {
    wasmtime::Error::msg(e.to_string())
}

impl types::Host for BaselineState {}

impl types::HostBuffer for BaselineState {
    fn size(&mut self, this: Resource<BaselineBuffer>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&this).map_err(trap)?.bytes.len() as u64)
    }

    fn content_type(&mut self, this: Resource<BaselineBuffer>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this).map_err(trap)?.content_type.clone())
    }

    fn read(
        &mut self,
        this: Resource<BaselineBuffer>,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Vec<u8>> {
        let bytes = &self.table.get(&this).map_err(trap)?.bytes;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let end = start
            .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
            .min(bytes.len());
        Ok(bytes[start..end].to_vec())
    }

    fn read_all(&mut self, this: Resource<BaselineBuffer>) -> wasmtime::Result<Vec<u8>> {
        Ok(self.table.get(&this).map_err(trap)?.bytes.clone())
    }

    fn drop(&mut self, rep: Resource<BaselineBuffer>) -> wasmtime::Result<()> {
        self.table.delete(rep).map_err(trap)?;
        Ok(())
    }
}

impl types::HostMutableBuffer for BaselineState {
    fn write(
        &mut self,
        this: Resource<BaselineMutableBuffer>,
        offset: u64,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::BufferError>> {
        let m = self.table.get_mut(&this).map_err(trap)?;
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        if offset > m.bytes.len() {
            return Ok(Err(types::BufferError::OutOfBounds));
        }
        let end = offset.saturating_add(bytes.len());
        if end as u64 > m.capacity {
            return Ok(Err(types::BufferError::CapacityExceeded));
        }
        if end > m.bytes.len() {
            m.bytes.resize(end, 0);
        }
        m.bytes[offset..end].copy_from_slice(&bytes);
        Ok(Ok(()))
    }

    fn append(
        &mut self,
        this: Resource<BaselineMutableBuffer>,
        bytes: Vec<u8>,
    ) -> wasmtime::Result<Result<(), types::BufferError>> {
        let m = self.table.get_mut(&this).map_err(trap)?;
        if (m.bytes.len() + bytes.len()) as u64 > m.capacity {
            return Ok(Err(types::BufferError::CapacityExceeded));
        }
        m.bytes.extend_from_slice(&bytes);
        Ok(Ok(()))
    }

    fn size(&mut self, this: Resource<BaselineMutableBuffer>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&this).map_err(trap)?.bytes.len() as u64)
    }

    fn capacity(&mut self, this: Resource<BaselineMutableBuffer>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&this).map_err(trap)?.capacity)
    }

    fn set_content_type(
        &mut self,
        this: Resource<BaselineMutableBuffer>,
        content_type: String,
    ) -> wasmtime::Result<()> {
        self.table.get_mut(&this).map_err(trap)?.content_type = content_type;
        Ok(())
    }

    fn freeze(
        &mut self,
        this: Resource<BaselineMutableBuffer>,
    ) -> wasmtime::Result<Resource<BaselineBuffer>> {
        let m = self.table.get_mut(&this).map_err(trap)?;
        let frozen = BaselineBuffer {
            bytes: std::mem::take(&mut m.bytes),
            content_type: std::mem::take(&mut m.content_type),
        };
        self.table.push(frozen).map_err(trap)
    }

    fn drop(&mut self, rep: Resource<BaselineMutableBuffer>) -> wasmtime::Result<()> {
        self.table.delete(rep).map_err(trap)?;
        Ok(())
    }
}

impl types::HostFlowContext for BaselineState {
    fn trace_id(&mut self, _this: Resource<BaselineFlow>) -> wasmtime::Result<String> {
        Ok(String::new())
    }

    fn span_id(&mut self, _this: Resource<BaselineFlow>) -> wasmtime::Result<String> {
        Ok(String::new())
    }

    fn deadline_ns(&mut self, _this: Resource<BaselineFlow>) -> wasmtime::Result<u64> {
        Ok(0)
    }

    fn flow_id(&mut self, this: Resource<BaselineFlow>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this).map_err(trap)?.flow_id.clone())
    }

    fn drop(&mut self, rep: Resource<BaselineFlow>) -> wasmtime::Result<()> {
        self.table.delete(rep).map_err(trap)?;
        Ok(())
    }
}

impl buffer_allocator::Host for BaselineState {
    fn allocate(
        &mut self,
        capacity_hint: u64,
    ) -> wasmtime::Result<Result<Resource<BaselineMutableBuffer>, types::BufferError>> {
        let m = BaselineMutableBuffer {
            bytes: Vec::with_capacity(usize::try_from(capacity_hint).unwrap_or(0)),
            capacity: capacity_hint,
            content_type: String::new(),
        };
        Ok(Ok(self.table.push(m).map_err(trap)?))
    }

    fn clone_into_mutable(
        &mut self,
        source: Resource<BaselineBuffer>,
    ) -> wasmtime::Result<Result<Resource<BaselineMutableBuffer>, types::BufferError>> {
        let b = self.table.get(&source).map_err(trap)?;
        let m = BaselineMutableBuffer {
            bytes: b.bytes.clone(),
            capacity: b.bytes.len() as u64,
            content_type: b.content_type.clone(),
        };
        Ok(Ok(self.table.push(m).map_err(trap)?))
    }
}

/// A linker with WASI p2, as the engine links it, and the contract's host
/// functions (and nothing else).
fn contract_linker(engine: &Engine) -> wasmtime::Result<Linker<BaselineState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    BenchHost::add_to_linker::<_, HasSelf<BaselineState>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// A component compiled for the baseline host, linked once.
pub struct Baseline {
    name: String,
    engine: Engine,
    component: Component,
    pre: InstancePre<BaselineState>,
    processor: Option<processor::GuestIndices>,
    source: Option<source::GuestIndices>,
    sink: Option<sink::GuestIndices>,
    lifecycle: Option<lifecycle::GuestIndices>,
    fuel: bool,
    /// The imports linked to stubs that trap (the ones the engine stubbed).
    stubbed: Vec<String>,
    /// The machine code is the engine's ([`Baseline::from_engine_code`]).
    reused: bool,
}

/// A Wasmtime engine with the engine's code-generation settings for
/// `config`, so baseline and engine run the same machine code.
fn baseline_engine(config: &WasmtimeEngineConfig, name: &str) -> Result<Engine, BenchError> {
    Engine::new(&torvyn_engine::wasmtime::codegen_config(config))
        .map_err(|e| baseline_error("create an engine for", name, &e))
}

fn baseline_error(action: &'static str, name: &str, e: &wasmtime::Error) -> BenchError {
    BenchError::Baseline {
        action,
        component: name.to_string(),
        message: format!("{e:#}"),
    }
}

/// [`contract_linker`], with the imports of `component` named in `stubbed`
/// linked to stubs that trap, as the engine links them
/// ([`define_stubs`]).
fn linker_for(
    engine: &Engine,
    component: &Component,
    stubbed: &[String],
) -> wasmtime::Result<Linker<BaselineState>> {
    let mut linker = contract_linker(engine)?;
    if !stubbed.is_empty() {
        let imports: Vec<(String, ComponentItem)> = component
            .component_type()
            .imports(engine)
            .map(|(n, import)| (n.to_owned(), import.ty))
            .collect();
        for name in stubbed {
            let Some((_, item)) = imports.iter().find(|(n, _)| n == name) else {
                wasmtime::bail!("the component does not import `{name}`");
            };
            define_stubs(
                &mut linker,
                engine,
                name,
                item,
                &imports,
                provided_resource,
                unlinked,
            )?;
        }
    }
    Ok(linker)
}

/// The trap of a stubbed import the baseline links.
fn unlinked(function: String) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "`{function}` was called, an import the engine does not provide (linked to a stub that \
         traps)"
    ))
}

/// The host type the baseline's linker gives resource `resource` of
/// interface `interface` (any version), for the resources other
/// interfaces re-export: WASI's streams, pollables and errors, and the
/// contract's buffers.
fn provided_resource(interface: &str, resource: &str) -> Option<ResourceType> {
    use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, IoError};
    let interface = interface.split_once('@').map_or(interface, |(i, _)| i);
    Some(match (interface, resource) {
        ("wasi:io/streams", "input-stream") => ResourceType::host::<DynInputStream>(),
        ("wasi:io/streams", "output-stream") => ResourceType::host::<DynOutputStream>(),
        ("wasi:io/poll", "pollable") => ResourceType::host::<DynPollable>(),
        ("wasi:io/error", "error") => ResourceType::host::<IoError>(),
        ("torvyn:streaming/types", "buffer") => ResourceType::host::<BaselineBuffer>(),
        ("torvyn:streaming/types", "mutable-buffer") => {
            ResourceType::host::<BaselineMutableBuffer>()
        }
        ("torvyn:streaming/types", "flow-context") => ResourceType::host::<BaselineFlow>(),
        _ => return None,
    })
}

impl fmt::Debug for Baseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Baseline")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Baseline {
    /// Compiles `bytes` (a component) with the code-generation settings of
    /// `config` and links it against the contract. `name` appears in errors.
    pub fn new(
        config: &WasmtimeEngineConfig,
        bytes: &[u8],
        name: &str,
    ) -> Result<Self, BenchError> {
        let engine = baseline_engine(config, name)?;
        let component = Component::from_binary(&engine, bytes)
            .map_err(|e| baseline_error("compile", name, &e))?;
        Self::link(config, engine, component, name, false, Vec::new())
    }

    /// The baseline of a component `engine` compiled: the engine's machine
    /// code (`compiled`, serialized and loaded into the baseline's Wasmtime
    /// engine, which has the same code-generation settings), so no second
    /// compile; when that code cannot be loaded, `bytes` compiled as
    /// [`Baseline::new`] does. [`Baseline::reuses_engine_code`] says which.
    /// The imports the engine linked to stubs that trap
    /// ([`WasmtimeCompiled::stubbed_imports`]) are stubbed here too, as the
    /// engine stubs them.
    pub fn from_engine_code(
        config: &WasmtimeEngineConfig,
        engine: &WasmtimeEngine,
        compiled: &WasmtimeCompiled,
        bytes: &[u8],
        name: &str,
    ) -> Result<Self, BenchError> {
        let base = baseline_engine(config, name)?;
        let loaded = engine.serialize(compiled).ok().and_then(|code| {
            // SAFETY: the bytes are Wasmtime's serialization of a component
            // this process compiled (or loaded, verified, from its cache)
            // a moment ago, for an engine with the same code-generation
            // settings as `base`, and they have not left this process.
            // Wasmtime checks the compatibility of the settings itself and
            // refuses bytes it cannot load (then the component is compiled).
            unsafe { Component::deserialize(&base, &code) }.ok()
        });
        let stubbed = compiled.stubbed_imports().to_vec();
        match loaded {
            Some(component) => Self::link(config, base, component, name, true, stubbed),
            None => {
                let component = Component::from_binary(&base, bytes)
                    .map_err(|e| baseline_error("compile", name, &e))?;
                Self::link(config, base, component, name, false, stubbed)
            }
        }
    }

    fn link(
        config: &WasmtimeEngineConfig,
        engine: Engine,
        component: Component,
        name: &str,
        reused: bool,
        stubbed: Vec<String>,
    ) -> Result<Self, BenchError> {
        let pre = linker_for(&engine, &component, &stubbed)
            .and_then(|l| l.instantiate_pre(&component))
            .map_err(|e| baseline_error("link", name, &e))?;
        Ok(Self {
            name: name.to_string(),
            processor: processor::GuestIndices::new(&pre).ok(),
            source: source::GuestIndices::new(&pre).ok(),
            sink: sink::GuestIndices::new(&pre).ok(),
            lifecycle: lifecycle::GuestIndices::new(&pre).ok(),
            fuel: config.limits.fuel_enabled,
            stubbed,
            reused,
            engine,
            component,
            pre,
        })
    }

    /// Whether the baseline runs the engine's compiled code
    /// ([`Baseline::from_engine_code`]) rather than its own compile.
    pub fn reuses_engine_code(&self) -> bool {
        self.reused
    }

    fn store(&self) -> Result<Store<BaselineState>, BenchError> {
        let mut store = Store::new(&self.engine, BaselineState::new());
        // No ticker advances this engine's epoch: the deadline never comes.
        store.set_epoch_deadline(u64::MAX / 2);
        if self.fuel {
            store
                .set_fuel(u64::MAX / 4)
                .map_err(|e| self.error("set the fuel of", e))?;
        }
        Ok(store)
    }

    fn error(&self, action: &'static str, e: wasmtime::Error) -> BenchError {
        BenchError::Baseline {
            action,
            component: self.name.clone(),
            message: format!("{e:#}"),
        }
    }

    fn finish(
        &self,
        mut store: Store<BaselineState>,
        instance: &wasmtime::component::Instance,
    ) -> Result<BaselineInstance, BenchError> {
        let load = |e| self.error("load the exports of", e);
        Ok(BaselineInstance {
            processor: self
                .processor
                .as_ref()
                .map(|i| i.load(&mut store, instance))
                .transpose()
                .map_err(load)?,
            source: self
                .source
                .as_ref()
                .map(|i| i.load(&mut store, instance))
                .transpose()
                .map_err(load)?,
            sink: self
                .sink
                .as_ref()
                .map(|i| i.load(&mut store, instance))
                .transpose()
                .map_err(load)?,
            lifecycle: self
                .lifecycle
                .as_ref()
                .map(|i| i.load(&mut store, instance))
                .transpose()
                .map_err(load)?,
            store,
            flow_id: String::new(),
        })
    }

    /// An instance from the component linked once (`InstancePre`).
    pub fn instantiate(&self) -> Result<BaselineInstance, BenchError> {
        let mut store = self.store()?;
        let instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.error("instantiate", e))?;
        self.finish(store, &instance)
    }

    /// An instance the naive way: build a `Linker` with WASI and the
    /// contract's host functions, then `linker.instantiate`, every time (the cold-path
    /// baseline of the engine's pooled instantiate from `InstancePre`).
    pub fn instantiate_with_linking(&self) -> Result<BaselineInstance, BenchError> {
        let mut store = self.store()?;
        let instance = linker_for(&self.engine, &self.component, &self.stubbed)
            .and_then(|l| l.instantiate(&mut store, &self.component))
            .map_err(|e| self.error("link and instantiate", e))?;
        self.finish(store, &instance)
    }

    /// The roles the component exports, as the baseline sees them.
    pub fn roles(&self) -> Vec<Role> {
        [
            (Role::Processor, self.processor.is_some()),
            (Role::Source, self.source.is_some()),
            (Role::Sink, self.sink.is_some()),
            (Role::Lifecycle, self.lifecycle.is_some()),
        ]
        .into_iter()
        .filter_map(|(r, present)| present.then_some(r))
        .collect()
    }
}

/// A live instance on the baseline host.
pub struct BaselineInstance {
    store: Store<BaselineState>,
    processor: Option<processor::Guest>,
    source: Option<source::Guest>,
    sink: Option<sink::Guest>,
    lifecycle: Option<lifecycle::Guest>,
    flow_id: String,
}

impl fmt::Debug for BaselineInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaselineInstance").finish_non_exhaustive()
    }
}

/// A baseline call that failed: the guest's `process-error`, or a trap.
#[derive(Debug)]
pub enum BaselineCallError {
    /// The guest answered a `process-error` (its variant and message);
    /// the instance is still usable.
    Guest {
        /// The error, as the bindings print it (`InvalidInput("...")`).
        message: String,
        /// Whether it was `fatal` (send the component nothing more).
        fatal: bool,
    },
    /// The call trapped, or the host could not make it.
    Trap(String),
}

impl fmt::Display for BaselineCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Guest { message, .. } => write!(f, "process-error {message}"),
            Self::Trap(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BaselineCallError {}

fn call_error(e: impl fmt::Debug) -> BaselineCallError {
    BaselineCallError::Trap(format!("{e:?}"))
}

fn guest_error(e: types::ProcessError) -> BaselineCallError {
    BaselineCallError::Guest {
        fatal: matches!(e, types::ProcessError::Fatal(_)),
        message: format!("{e:?}"),
    }
}

impl BaselineInstance {
    /// Lends `payload` (copied into the table) and a flow context, and
    /// returns the typed input record. The caller deletes both afterwards.
    fn lend(
        &mut self,
        sequence: u64,
        payload: &[u8],
        content_type: &str,
    ) -> Result<
        (
            types::StreamElement,
            Resource<BaselineBuffer>,
            Resource<BaselineFlow>,
        ),
        BaselineCallError,
    > {
        let table = &mut self.store.data_mut().table;
        let buffer = table
            .push(BaselineBuffer {
                bytes: payload.to_vec(),
                content_type: content_type.to_owned(),
            })
            .map_err(call_error)?;
        let flow = table
            .push(BaselineFlow {
                flow_id: self.flow_id.clone(),
            })
            .map_err(call_error)?;
        let element = types::StreamElement {
            meta: types::ElementMeta {
                sequence,
                timestamp_ns: 0,
                content_type: content_type.to_owned(),
            },
            payload: Resource::new_borrow(buffer.rep()),
            context: Resource::new_borrow(flow.rep()),
        };
        Ok((element, buffer, flow))
    }

    fn release(
        &mut self,
        buffer: Resource<BaselineBuffer>,
        flow: Resource<BaselineFlow>,
    ) -> Result<(), BaselineCallError> {
        let table = &mut self.store.data_mut().table;
        table.delete(buffer).map_err(call_error)?;
        table.delete(flow).map_err(call_error)?;
        Ok(())
    }

    fn take(&mut self, payload: Resource<BaselineBuffer>) -> Result<Vec<u8>, BaselineCallError> {
        let table = &mut self.store.data_mut().table;
        Ok(table.delete(payload).map_err(call_error)?.bytes)
    }

    /// `processor.process`: `Some(bytes)` when the guest emits, `None` when
    /// it drops the element.
    pub fn process(
        &mut self,
        sequence: u64,
        payload: &[u8],
        content_type: &str,
    ) -> Result<Option<Vec<u8>>, BaselineCallError> {
        if self.processor.is_none() {
            return Err(BaselineCallError::Trap("no processor export".into()));
        }
        let (element, buffer, flow) = self.lend(sequence, payload, content_type)?;
        let guest = self.processor.as_ref().expect("checked above");
        let result = guest
            .call_process(&mut self.store, &element)
            .map_err(call_error)?;
        self.release(buffer, flow)?;
        match result.map_err(guest_error)? {
            types::ProcessResult::Emit(out) => Ok(Some(self.take(out.payload)?)),
            types::ProcessResult::Drop => Ok(None),
        }
    }

    /// `source.pull`: the next payload, `None` once exhausted.
    pub fn pull(&mut self) -> Result<Option<Vec<u8>>, BaselineCallError> {
        let guest = self
            .source
            .as_ref()
            .ok_or_else(|| BaselineCallError::Trap("no source export".into()))?;
        match guest
            .call_pull(&mut self.store)
            .map_err(call_error)?
            .map_err(guest_error)?
        {
            Some(out) => Ok(Some(self.take(out.payload)?)),
            None => Ok(None),
        }
    }

    /// `sink.push`: `true` when the sink asks for a pause.
    pub fn push(
        &mut self,
        sequence: u64,
        payload: &[u8],
        content_type: &str,
    ) -> Result<bool, BaselineCallError> {
        if self.sink.is_none() {
            return Err(BaselineCallError::Trap("no sink export".into()));
        }
        let (element, buffer, flow) = self.lend(sequence, payload, content_type)?;
        let guest = self.sink.as_ref().expect("checked above");
        let result = guest
            .call_push(&mut self.store, &element)
            .map_err(call_error)?;
        self.release(buffer, flow)?;
        Ok(result.map_err(guest_error)? == types::BackpressureSignal::Pause)
    }

    /// `lifecycle.init(config)`; a no-op without the lifecycle export.
    pub fn init(&mut self, config: &str) -> Result<(), BaselineCallError> {
        match self.lifecycle.as_ref() {
            Some(guest) => guest
                .call_init(&mut self.store, config)
                .map_err(call_error)?
                .map_err(guest_error),
            None => Ok(()),
        }
    }

    /// Host resources the table holds now (zero between calls when the
    /// guest drops what it should).
    pub fn live_resources(&mut self) -> usize {
        let table = &mut self.store.data_mut().table;
        table.iter_mut().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_runs_the_fixtures_like_the_engine() {
        let config = WasmtimeEngineConfig::default();
        let bytes = crate::fixtures::load_fixture("uppercase").unwrap();
        let base = Baseline::new(&config, &bytes, "uppercase").unwrap();
        let mut inst = base.instantiate().unwrap();
        assert_eq!(
            inst.process(0, b"hello", "text/plain").unwrap().as_deref(),
            Some(&b"HELLO"[..])
        );
        assert_eq!(inst.live_resources(), 0);
        let mut linked = base.instantiate_with_linking().unwrap();
        assert_eq!(
            linked.process(1, b"abc", "text/plain").unwrap().as_deref(),
            Some(&b"ABC"[..])
        );

        let bytes = crate::fixtures::load_fixture("counter-source").unwrap();
        let base = Baseline::new(&config, &bytes, "counter-source").unwrap();
        let mut src = base.instantiate().unwrap();
        src.init("{\"count\": 2}").unwrap();
        assert_eq!(src.pull().unwrap().as_deref(), Some(&b"0"[..]));
        assert_eq!(src.pull().unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(src.pull().unwrap(), None);

        let bytes = crate::fixtures::load_fixture("sink").unwrap();
        let base = Baseline::new(&config, &bytes, "sink").unwrap();
        let mut sink = base.instantiate().unwrap();
        sink.init("{\"count\": 2}").unwrap();
        assert!(!sink.push(0, b"x", "text/plain").unwrap());
        assert!(sink.push(1, b"y", "text/plain").unwrap());
        assert_eq!(sink.live_resources(), 0);
    }

    #[test]
    fn the_baseline_stubs_the_imports_the_engine_stubbed() {
        let config = WasmtimeEngineConfig {
            unknown_imports: torvyn_engine::wasmtime::UnknownImports::Trap,
            ..WasmtimeEngineConfig::default()
        };
        let engine = WasmtimeEngine::new(config.clone()).unwrap();
        // unlinked-import imports `acme:nope/thing@1.0.0`, which it calls on
        // odd sequence numbers only.
        let bytes = crate::fixtures::load_fixture("unlinked-import").unwrap();
        let compiled = engine.compile(&bytes).unwrap();
        assert_eq!(compiled.stubbed_imports(), ["acme:nope/thing@1.0.0"]);
        let base =
            Baseline::from_engine_code(&config, &engine, &compiled, &bytes, "unlinked-import")
                .unwrap();
        assert!(base.reuses_engine_code());
        for mut inst in [
            base.instantiate().unwrap(),
            base.instantiate_with_linking().unwrap(),
        ] {
            assert_eq!(
                inst.process(0, b"ab", "text/plain").unwrap().as_deref(),
                Some(&b"ab"[..])
            );
            let err = inst.process(1, b"ab", "text/plain").unwrap_err();
            assert!(
                matches!(&err, BaselineCallError::Trap(m) if m.contains("acme:nope/thing@1.0.0#poke")),
                "{err}"
            );
        }
        // Without the engine's list, nothing is stubbed: the baseline does
        // not link it.
        let err = Baseline::new(&config, &bytes, "unlinked-import").unwrap_err();
        assert!(err.to_string().contains("acme:nope/thing@1.0.0"), "{err}");
    }

    #[test]
    fn the_baseline_links_wasi_like_the_engine() {
        let config = WasmtimeEngineConfig::default();
        let bytes = crate::fixtures::load_fixture("wasi-hello").unwrap();
        let base = Baseline::new(&config, &bytes, "wasi-hello").unwrap();
        let mut inst = base.instantiate().unwrap();
        // stdout is discarded; the element is 8 wall-clock bytes and 8 random.
        let out = inst.process(0, b"hi", "text/plain").unwrap();
        assert_eq!(out.map(|b| b.len()), Some(16));
        assert_eq!(inst.live_resources(), 0, "the stdout stream was dropped");
        let mut linked = base.instantiate_with_linking().unwrap();
        assert!(linked.process(1, b"x", "text/plain").unwrap().is_some());
    }
}
