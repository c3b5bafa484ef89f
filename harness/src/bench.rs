//! Benchmark support: the minimal `bindgen!` host the engine is measured
//! against, and quick interleaved engine-versus-baseline figures.
//!
//! * [`Baseline`] / [`BaselineInstance`]: the same component called
//!   directly through `wasmtime::component::bindgen!` bindings of the
//!   contract, with a host that keeps every buffer as a `Vec<u8>` in a
//!   Wasmtime [`ResourceTable`] and does nothing else: no fuel accounting
//!   per call, no deadlines, no limits, no metrics, no reclaiming. It links
//!   WASI p2 as the engine does (`wasmtime_wasi::p2::add_to_linker_sync`,
//!   a context that grants nothing, stdout and stderr discarded), so it
//!   runs any component the engine runs, a `wasm32-wasip2` build included.
//!   It is built with the same code-generation settings as the engine it is
//!   compared with (compiler, fuel, epoch interruption, stack), so the
//!   difference is the engine's layers, not the machine code.
//! * [`compare`] / [`compare_with`]: runs interleaved rounds of the engine
//!   and the baseline on one component in one process and returns a
//!   [`BenchReport`] (ns per element for each, and their ratio). The
//!   criterion benches in `benches/` measure the same thing more carefully.
//!
//! ```no_run
//! let report = torvyn_harness::bench::compare("uppercase", 1024, 20_000)?;
//! println!("{report}");
//! assert!(report.ratio > 0.0);
//! # Ok::<(), torvyn_harness::bench::BenchError>(())
//! ```
//!
//! What the baseline does differently, by design: it copies each input
//! payload into its table (`Vec<u8>`), where the engine lends the caller's
//! `Bytes` without copying, and `clone-into-mutable` copies where the
//! engine shares. At large payloads that favours the engine; at small ones
//! the ratio is the cost of the engine's per-call work.

use std::fmt;
use std::time::{Duration, Instant};

use torvyn_engine::mock::{JournalMode, MockEngineConfig, MockInvoker};
use torvyn_engine::wasmtime::WasmtimeEngine;
use torvyn_engine::{
    Bytes, CompilationStrategy, ComponentId, ProcessResult, Role, StreamElement, WasmEngine,
    WasmtimeEngineConfig, WasmtimeInvoker,
};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker, Resource, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::backend::SimBackend;
use crate::error::HarnessError;
use crate::scenario::ComponentSource;

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

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// Loading or compiling the component for the engine failed.
    #[error(transparent)]
    Harness(#[from] HarnessError),
    /// The baseline host could not compile, link or instantiate the
    /// component.
    #[error("the baseline host cannot {action} `{component}`: {message}")]
    Baseline {
        /// What was being done.
        action: &'static str,
        /// The component.
        component: String,
        /// Wasmtime's message.
        message: String,
    },
    /// A call failed during the measurement (a benchmark needs a component
    /// that runs cleanly for the whole run).
    #[error("`{component}` failed during the benchmark ({side}): {message}")]
    Call {
        /// The component.
        component: String,
        /// `engine` or `baseline`.
        side: &'static str,
        /// What failed.
        message: String,
    },
    /// A comparison with the mock ([`Against::Mock`]) was asked for a
    /// component that has no mock model.
    #[error(
        "`{component}` has no mock model: `--backend mock` runs the model of a fixture ({}) \
         beside the engine; measure `{component}` on the engine against the bindgen baseline \
         instead (leave out `--backend mock`)",
        torvyn_engine::mock::models::NAMES.join(", ")
    )]
    NoMockModel {
        /// The component as named.
        component: String,
    },
    /// The component exports no role the benchmark can drive.
    #[error(
        "`{component}` exports neither a processor, a sink nor a source; benchmark a component \
         of one of those worlds"
    )]
    NoRole {
        /// The component.
        component: String,
    },
}

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
        let fail = |action| {
            move |e: wasmtime::Error| BenchError::Baseline {
                action,
                component: name.to_string(),
                message: format!("{e:#}"),
            }
        };
        // The engine's own code-generation settings, so baseline and engine
        // run the same machine code.
        let engine = Engine::new(&torvyn_engine::wasmtime::codegen_config(config))
            .map_err(fail("create an engine for"))?;
        let component = Component::from_binary(&engine, bytes).map_err(fail("compile"))?;
        let pre = contract_linker(&engine)
            .and_then(|l| l.instantiate_pre(&component))
            .map_err(fail("link"))?;
        Ok(Self {
            name: name.to_string(),
            processor: processor::GuestIndices::new(&pre).ok(),
            source: source::GuestIndices::new(&pre).ok(),
            sink: sink::GuestIndices::new(&pre).ok(),
            lifecycle: lifecycle::GuestIndices::new(&pre).ok(),
            fuel: config.limits.fuel_enabled,
            engine,
            component,
            pre,
        })
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
        let instance = contract_linker(&self.engine)
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

/// A baseline call that failed: a trap, or the guest's `process-error`.
#[derive(Debug)]
pub struct BaselineCallError(pub String);

impl fmt::Display for BaselineCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BaselineCallError {}

fn call_error(e: impl fmt::Debug) -> BaselineCallError {
    BaselineCallError(format!("{e:?}"))
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
            return Err(BaselineCallError("no processor export".into()));
        }
        let (element, buffer, flow) = self.lend(sequence, payload, content_type)?;
        let guest = self.processor.as_ref().expect("checked above");
        let result = guest
            .call_process(&mut self.store, &element)
            .map_err(call_error)?;
        self.release(buffer, flow)?;
        match result.map_err(call_error)? {
            types::ProcessResult::Emit(out) => Ok(Some(self.take(out.payload)?)),
            types::ProcessResult::Drop => Ok(None),
        }
    }

    /// `source.pull`: the next payload, `None` once exhausted.
    pub fn pull(&mut self) -> Result<Option<Vec<u8>>, BaselineCallError> {
        let guest = self
            .source
            .as_ref()
            .ok_or_else(|| BaselineCallError("no source export".into()))?;
        match guest
            .call_pull(&mut self.store)
            .map_err(call_error)?
            .map_err(call_error)?
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
            return Err(BaselineCallError("no sink export".into()));
        }
        let (element, buffer, flow) = self.lend(sequence, payload, content_type)?;
        let guest = self.sink.as_ref().expect("checked above");
        let result = guest
            .call_push(&mut self.store, &element)
            .map_err(call_error)?;
        self.release(buffer, flow)?;
        Ok(result.map_err(call_error)? == types::BackpressureSignal::Pause)
    }

    /// `lifecycle.init(config)`; a no-op without the lifecycle export.
    pub fn init(&mut self, config: &str) -> Result<(), BaselineCallError> {
        match self.lifecycle.as_ref() {
            Some(guest) => guest
                .call_init(&mut self.store, config)
                .map_err(call_error)?
                .map_err(call_error),
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

/// Loads a component for a benchmark: a fixture name, a `.wat` file or a
/// `.wasm` component. Returns its bytes and a name for messages.
pub fn load_component(reference: &str) -> Result<(Vec<u8>, String), HarnessError> {
    let source = ComponentSource::parse(reference, None);
    let (bytes, origin) = source.load(reference)?;
    // A fixture is named by its name; a file by its path.
    let name = match source {
        ComponentSource::Fixture(name) => name,
        ComponentSource::Wat(_) | ComponentSource::Wasm(_) | ComponentSource::Scripted(_) => origin,
    };
    Ok((bytes, name))
}

/// A payload of `len` bytes of lower-case ASCII text (so `uppercase` has
/// work to do on every byte).
pub fn text_payload(len: usize) -> Bytes {
    const TEXT: &[u8] = b"the quick brown fox jumps over the lazy dog ";
    Bytes::from(TEXT.iter().copied().cycle().take(len).collect::<Vec<u8>>())
}

/// What [`compare_with`] measures.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// A fixture name, a `.wat` file or a `.wasm` component.
    pub component: String,
    /// Payload bytes per element (processors and sinks).
    pub payload_bytes: usize,
    /// Elements (calls) per side, spread over the rounds.
    pub elements: u64,
    /// Rounds; each runs the engine and the baseline one after the other,
    /// alternating which goes first. The figures are the medians.
    pub rounds: u32,
    /// The engine configuration; the baseline copies its code-generation
    /// settings, the mock its limits.
    pub config: WasmtimeEngineConfig,
    /// What the engine is measured against.
    pub against: Against,
}

/// The other side of a comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Against {
    /// A minimal `bindgen!` host running the same component: the ratio is
    /// engine / baseline, the engine's fixed cost.
    #[default]
    Baseline,
    /// The mock backend running the fixture's model: the ratio is mock /
    /// engine, what a host's mock-only tests save per call.
    Mock,
}

impl CompareOptions {
    /// 1 KiB payloads, 20 000 elements in 7 rounds, the default engine
    /// configuration (Cranelift, fuel on).
    pub fn new(component: impl Into<String>) -> Self {
        Self {
            component: component.into(),
            payload_bytes: 1024,
            elements: 20_000,
            rounds: 7,
            config: WasmtimeEngineConfig::default(),
            against: Against::Baseline,
        }
    }
}

/// The result of [`compare`]: engine and baseline on one component, in one
/// process, in interleaved rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// The component.
    pub component: String,
    /// The function called: `process`, `push` or `pull`.
    pub function: &'static str,
    /// Payload bytes per element (0 for `pull`).
    pub payload_bytes: usize,
    /// Elements per side.
    pub elements: u64,
    /// Rounds run.
    pub rounds: u32,
    /// The compiler.
    pub strategy: CompilationStrategy,
    /// Whether fuel was metered.
    pub fuel: bool,
    /// The engine (`WasmtimeInvoker`, synchronous calls): median ns per
    /// element over the rounds.
    pub engine_ns: f64,
    /// The other side ([`BenchReport::against`]): median ns per element.
    pub baseline_ns: f64,
    /// What the other side was.
    pub against: Against,
    /// Against the baseline: `engine_ns / baseline_ns` (1.05 means the
    /// engine costs 5% more). Against the mock: `baseline_ns / engine_ns`,
    /// the mock's cost as a share of the engine's.
    pub ratio: f64,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} `{}`: {} elements of {} B in {} rounds ({}, fuel {})",
            self.function,
            self.component,
            self.elements,
            self.payload_bytes,
            self.rounds,
            self.strategy.name(),
            if self.fuel { "on" } else { "off" },
        )?;
        writeln!(f, "  engine    {:>10.1} ns/element", self.engine_ns)?;
        match self.against {
            Against::Baseline => {
                writeln!(f, "  baseline  {:>10.1} ns/element", self.baseline_ns)?;
                write!(f, "  ratio     {:>10.3} (engine / baseline)", self.ratio)
            }
            Against::Mock => {
                writeln!(f, "  mock      {:>10.1} ns/element", self.baseline_ns)?;
                write!(f, "  ratio     {:>10.3} (mock / engine)", self.ratio)
            }
        }
    }
}

/// Engine versus minimal baseline on `component` (a fixture name, a `.wat`
/// file or a `.wasm` component) with `payload_bytes`-byte payloads and
/// `elements` calls per side, with the default engine configuration (see
/// [`CompareOptions::new`]). A processor is driven with `process`, a sink
/// with `push`, a source with `pull` (an exhausted source keeps answering
/// `none`; every call counts).
pub fn compare(
    component: &str,
    payload_bytes: usize,
    elements: u64,
) -> Result<BenchReport, BenchError> {
    compare_with(&CompareOptions {
        payload_bytes,
        elements,
        ..CompareOptions::new(component)
    })
}

/// One side of a comparison: runs `n` calls, returns the time they took.
type Side<'a> = Box<dyn FnMut(u64) -> Result<Duration, String> + 'a>;

/// [`compare`] with every option.
pub fn compare_with(options: &CompareOptions) -> Result<BenchReport, BenchError> {
    if options.against == Against::Mock {
        // Before anything is compiled: only a fixture with a model runs on
        // the mock.
        let modelled = matches!(
            ComponentSource::parse(&options.component, None),
            ComponentSource::Fixture(name) if torvyn_engine::mock::models::NAMES.contains(&name.as_str())
        );
        if !modelled {
            return Err(BenchError::NoMockModel {
                component: options.component.clone(),
            });
        }
    }
    let (bytes, name) = load_component(&options.component)?;
    let engine_err = |action| {
        let name = name.clone();
        move |source| {
            BenchError::Harness(HarnessError::Engine {
                action,
                component: name,
                source,
            })
        }
    };
    let engine =
        WasmtimeEngine::new(options.config.clone()).map_err(engine_err("create an engine for"))?;
    let compiled = engine
        .compile_named(&bytes, &name)
        .map_err(engine_err("compile"))?;
    let mut invoker = engine
        .instantiate(&compiled, ComponentId::new(&name))
        .map_err(engine_err("instantiate"))?;
    let roles = compiled.roles();
    let (function, payload_bytes) = if roles.contains(Role::Processor) {
        ("process", options.payload_bytes)
    } else if roles.contains(Role::Sink) {
        ("push", options.payload_bytes)
    } else if roles.contains(Role::Source) {
        ("pull", 0)
    } else {
        return Err(BenchError::NoRole { component: name });
    };
    let payload = text_payload(payload_bytes);
    const CONTENT_TYPE: &str = "text/plain";

    let mut engine_side: Side<'_> = {
        let payload = payload.clone();
        let inv = &mut invoker;
        Box::new(move |n| {
            let start = Instant::now();
            for seq in 0..n {
                engine_call(inv, function, seq, &payload, CONTENT_TYPE)?;
            }
            Ok(start.elapsed())
        })
    };
    let mut base;
    let mut mock;
    let mut baseline_side: Side<'_> = match options.against {
        Against::Baseline => {
            base = Baseline::new(&options.config, &bytes, &name)?.instantiate()?;
            let base = &mut base;
            let payload = &payload[..];
            Box::new(move |n| {
                let start = Instant::now();
                for seq in 0..n {
                    match function {
                        "process" => base.process(seq, payload, CONTENT_TYPE).map(drop),
                        "push" => base.push(seq, payload, CONTENT_TYPE).map(drop),
                        _ => base.pull().map(drop),
                    }
                    .map_err(|e| e.to_string())?;
                }
                Ok(start.elapsed())
            })
        }
        Against::Mock => {
            mock = mock_instance(options, &name)?;
            let inv = &mut mock;
            let payload = payload.clone();
            Box::new(move |n| {
                let start = Instant::now();
                for seq in 0..n {
                    engine_call(inv, function, seq, &payload, CONTENT_TYPE)?;
                }
                Ok(start.elapsed())
            })
        }
    };

    let rounds = options.rounds.max(1);
    let per_round = options.elements.div_ceil(u64::from(rounds)).max(1);
    let call_err = |side| {
        let name = name.clone();
        move |message| BenchError::Call {
            component: name,
            side,
            message,
        }
    };
    // Warm up both (caches, branch predictors, lazy initialization).
    let warm = per_round.min(1_000);
    engine_side(warm).map_err(call_err("engine"))?;
    baseline_side(warm).map_err(call_err("baseline"))?;
    let (mut e_ns, mut b_ns) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let per = |d: Duration| d.as_nanos() as f64 / per_round as f64;
        if round % 2 == 0 {
            e_ns.push(per(engine_side(per_round).map_err(call_err("engine"))?));
            b_ns.push(per(baseline_side(per_round).map_err(call_err("baseline"))?));
        } else {
            b_ns.push(per(baseline_side(per_round).map_err(call_err("baseline"))?));
            e_ns.push(per(engine_side(per_round).map_err(call_err("engine"))?));
        }
    }
    let (engine_ns, baseline_ns) = (median(&mut e_ns), median(&mut b_ns));
    let ratio = match options.against {
        Against::Baseline => engine_ns / baseline_ns,
        Against::Mock => baseline_ns / engine_ns,
    };
    Ok(BenchReport {
        component: name,
        function,
        payload_bytes,
        elements: per_round * u64::from(rounds),
        rounds,
        strategy: options.config.strategy,
        fuel: options.config.limits.fuel_enabled,
        engine_ns,
        baseline_ns,
        against: options.against,
        ratio,
    })
}

/// A mock instance of the fixture `name`'s model, with the engine's limits
/// and its journal off (as a host's mock-only suite would run it).
fn mock_instance(options: &CompareOptions, name: &str) -> Result<MockInvoker, BenchError> {
    let c = &options.config;
    let config = MockEngineConfig {
        limits: c.limits,
        journal: JournalMode::Off,
        ..MockEngineConfig::default()
    };
    let settings = crate::backend::EngineSettings {
        clock: crate::scenario::ClockSetting::System,
        ..crate::backend::EngineSettings::deterministic(0)
    };
    let backend = crate::backend::MockBackend::with_config(config, &settings)?;
    let source = ComponentSource::parse(&options.component, None);
    let compiled = backend.compile(&source, name)?;
    Ok(backend.instantiate(&compiled, name)?)
}

/// One engine call of a comparison; an error or fault ends the run.
fn engine_call<I: Synchronous>(
    inv: &mut I,
    function: &str,
    seq: u64,
    payload: &Bytes,
    content_type: &str,
) -> Result<(), String> {
    let element = || StreamElement::new(seq, payload.clone(), content_type);
    let outcome = match function {
        "process" => inv
            .process_now(element())
            .outcome
            .map(|_: ProcessResult| ()),
        "push" => inv.push_now(element()).outcome.map(drop),
        _ => inv.pull_now().outcome.map(drop),
    };
    outcome.map_err(|e| e.to_string())
}

/// The synchronous calls both invokers offer (`*_sync`), so a comparison
/// measures the same path on each, without an executor.
trait Synchronous {
    fn process_now(&mut self, el: StreamElement) -> torvyn_engine::Invocation<ProcessResult>;
    fn push_now(
        &mut self,
        el: StreamElement,
    ) -> torvyn_engine::Invocation<torvyn_engine::BackpressureSignal>;
    fn pull_now(&mut self) -> torvyn_engine::Invocation<Option<torvyn_engine::OutputElement>>;
}

macro_rules! synchronous {
    ($ty:ty) => {
        impl Synchronous for $ty {
            fn process_now(
                &mut self,
                el: StreamElement,
            ) -> torvyn_engine::Invocation<ProcessResult> {
                self.process_sync(el)
            }
            fn push_now(
                &mut self,
                el: StreamElement,
            ) -> torvyn_engine::Invocation<torvyn_engine::BackpressureSignal> {
                self.push_sync(el)
            }
            fn pull_now(
                &mut self,
            ) -> torvyn_engine::Invocation<Option<torvyn_engine::OutputElement>> {
                self.pull_sync()
            }
        }
    };
}

synchronous!(WasmtimeInvoker);
synchronous!(MockInvoker);

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
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

    #[test]
    fn the_mock_side_needs_a_fixture_with_a_model() {
        for component in ["trap", "x.wat", "x.wasm"] {
            let err = compare_with(&CompareOptions {
                against: Against::Mock,
                ..CompareOptions::new(component)
            })
            .unwrap_err();
            assert!(
                matches!(&err, BenchError::NoMockModel { component: c } if c == component),
                "{err}"
            );
            assert!(err.to_string().contains("passthrough"), "{err}");
        }
        let report = compare_with(&CompareOptions {
            elements: 100,
            rounds: 1,
            payload_bytes: 64,
            against: Against::Mock,
            ..CompareOptions::new("sink")
        })
        .unwrap();
        assert_eq!((report.function, report.against), ("push", Against::Mock));
        assert!((report.ratio - report.baseline_ns / report.engine_ns).abs() < 1e-9);
        assert!(report.to_string().ends_with("(mock / engine)"));
    }

    #[test]
    fn compare_reports_both_sides() {
        let report = compare_with(&CompareOptions {
            elements: 200,
            rounds: 3,
            payload_bytes: 64,
            ..CompareOptions::new("passthrough")
        })
        .unwrap();
        assert_eq!(report.function, "process");
        assert!(report.engine_ns > 0.0 && report.baseline_ns > 0.0);
        assert!(report.ratio.is_finite());
        let text = report.to_string();
        assert!(text.contains("engine") && text.contains("ratio"), "{text}");
    }
}
