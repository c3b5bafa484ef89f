//! The two traits every backend implements.
//!
//! [`WasmEngine`] is the cold path: compile, serialize and deserialize
//! compiled code, instantiate, and set an instance's fuel. [`ComponentInvoker`]
//! is the hot path: one method per contract function, each returning an
//! [`Invocation`] with the outcome and what the call cost.
//!
//! The hot-path methods are native `async fn`s in the trait (written as
//! `-> impl Future + Send` so the futures can move between threads of a
//! multi-threaded runtime); no boxing happens per call. Both traits use
//! associated types, so a host generic over them is monomorphized and pays
//! no dynamic dispatch.

use std::future::Future;

use crate::call::{Answer, Call};
use crate::error::{EngineError, Fault};
use crate::faults::{HostFaultPlan, InjectedFault};
use crate::host_calls::HostCall;
use crate::instance::InstanceOptions;
use crate::types::{
    BackpressureSignal, ComponentId, Grants, Invocation, OutputElement, ProcessResult, Roles,
    StreamElement,
};
use crate::world::{CallWorld, WorldInfo, WorldRead};

/// Cold-path operations of a WebAssembly component engine.
///
/// # Example
///
/// ```
/// use torvyn_engine::{ComponentId, ComponentInvoker, StreamElement, WasmEngine};
/// use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
///
/// let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
/// let bytes = torvyn_harness::fixtures::load_fixture("uppercase")?;
/// let compiled = engine.compile(&bytes)?;
/// let mut instance = engine.instantiate(&compiled, ComponentId::new("upper-1"))?;
/// engine.set_fuel(&mut instance, 1_000_000)?;
///
/// let call = instance.process_sync(StreamElement::new(0, "hello", "text/plain"));
/// assert!(call.metrics.fuel_consumed > 0);
/// assert!(engine.fuel_remaining(&instance).unwrap() < 1_000_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait WasmEngine: Send + Sync {
    /// A compiled component, cheap to clone and shareable across threads.
    type Compiled: Clone + Send + Sync + 'static;
    /// A live instance of a compiled component.
    type Instance: ComponentInvoker + Send + 'static;

    /// Compiles a component from its binary encoding.
    fn compile(&self, bytes: &[u8]) -> Result<Self::Compiled, EngineError>;

    /// Compiles a component from WebAssembly text. The text must describe a
    /// component; a core module is refused with [`EngineError::NotAComponent`].
    fn compile_wat(&self, text: &str) -> Result<Self::Compiled, EngineError>;

    /// Serializes compiled code so [`WasmEngine::deserialize`] can load it
    /// without compiling again.
    fn serialize(&self, compiled: &Self::Compiled) -> Result<Vec<u8>, EngineError>;

    /// Loads compiled code that [`WasmEngine::serialize`] produced.
    ///
    /// # Safety
    ///
    /// The bytes become executable machine code: they must come from
    /// [`WasmEngine::serialize`] of an engine with the same configuration,
    /// and must not have been tampered with since. Bytes from an untrusted
    /// place must be authenticated first (the compiled-component cache checks
    /// a SHA-256 digest before calling this).
    unsafe fn deserialize(&self, bytes: &[u8]) -> Result<Self::Compiled, EngineError>;

    /// Creates an instance, reading which roles the component exports,
    /// with default [`InstanceOptions`] (nothing granted).
    fn instantiate(
        &self,
        compiled: &Self::Compiled,
        id: ComponentId,
    ) -> Result<Self::Instance, EngineError> {
        self.instantiate_with(compiled, id, &InstanceOptions::default())
    }

    /// Creates an instance with per-instance options: the capabilities its
    /// `torvyn:capabilities/capability-query` import reports as granted.
    fn instantiate_with(
        &self,
        compiled: &Self::Compiled,
        id: ComponentId,
        options: &InstanceOptions,
    ) -> Result<Self::Instance, EngineError>;

    /// Sets the fuel budget each later call of `instance` starts with.
    fn set_fuel(&self, instance: &mut Self::Instance, fuel: u64) -> Result<(), EngineError>;

    /// Fuel left after the instance's last call (its full budget before the
    /// first call); `None` when fuel metering is off.
    fn fuel_remaining(&self, instance: &Self::Instance) -> Option<u64>;

    /// The instance's linear memory size in bytes.
    fn memory_usage(&self, instance: &Self::Instance) -> u64;

    /// A SHA-256 fingerprint that identifies everything that changes
    /// compiled code: the backend and its version, the target, and every
    /// setting that affects code generation (compiler, fuel, epochs, memory
    /// and stack settings...). Two engines whose artifacts are not
    /// interchangeable have different fingerprints; two engines with the
    /// same fingerprint can load each other's [`WasmEngine::serialize`]
    /// output. It must be stable across processes (no random seeds), because
    /// the compiled-component cache keys disk entries with it.
    ///
    /// [`crate::cache::FingerprintHasher`] turns `Hash` values into such a
    /// digest.
    fn fingerprint(&self) -> [u8; 32];

    /// The counters of the engine's incremental compilation cache (a
    /// per-function cache of compiled code that makes a rebuilt component
    /// compile fast), when it has one; `None` (the default) otherwise.
    /// [`crate::cache::CompiledComponentCache::stats`] reports them.
    fn incremental_stats(&self) -> Option<crate::IncrementalStats> {
        None
    }
}

/// Hot-path calls into one component instance.
///
/// Every method returns an [`Invocation`]: the outcome (a value, the guest's
/// `process-error`, or an engine [`Fault`]) and the call's metrics. A fault
/// that interrupts the guest poisons the instance: later calls return
/// [`crate::FaultKind::Poisoned`] at once; create a new instance.
///
/// Calls are sequential per instance (`&mut self`): the contract says a
/// component is never re-entered.
///
/// # Example
///
/// ```
/// use torvyn_engine::{ComponentId, ComponentInvoker, ProcessResult, StreamElement, WasmEngine};
/// use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
/// let compiled = engine.compile(&torvyn_harness::fixtures::load_fixture("uppercase")?)?;
/// let mut upper = engine.instantiate(&compiled, ComponentId::new("upper"))?;
///
/// let call = upper.process(StreamElement::new(7, "hello", "text/plain")).await;
/// match call.outcome? {
///     ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"HELLO"),
///     ProcessResult::Drop => unreachable!("uppercase always emits"),
/// }
/// assert_eq!(upper.live_resources(), 0);
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
/// ```
pub trait ComponentInvoker {
    /// The instance's id, named in every fault.
    fn component_id(&self) -> &ComponentId;

    /// The roles the component exports.
    fn roles(&self) -> Roles;

    /// Host resources the instance holds right now. Outside a call this is
    /// zero: inputs are released, outputs moved to the caller and anything
    /// the guest kept is reclaimed when each call ends.
    fn live_resources(&self) -> usize;

    /// The fault that poisoned the instance, if one did.
    fn poisoned(&self) -> Option<&Fault>;

    /// The capabilities granted to the instance (what `has-capability`
    /// answers `true` for).
    fn grants(&self) -> &Grants;

    /// Makes the instance's calls into the host fail on purpose from now
    /// on, as `plan` says (host calls are counted afresh from here), to see
    /// what the component does when the host says no: a function with a
    /// contract error answers it (`allocation-failed`, `capacity-exceeded`),
    /// any other traps, ending the call in a [`crate::FaultKind::Host`]
    /// fault that names the host call. [`HostFaultPlan::None`] serves every
    /// call again.
    fn set_host_faults(&mut self, plan: HostFaultPlan);

    /// The first host call the plan failed during the last call, if any.
    fn injected_fault(&self) -> Option<InjectedFault>;

    /// Starts (`true`) or stops tracing the contract host calls of each
    /// call: [`ComponentInvoker::host_call_trace`] lists the last call's.
    /// Off by default ([`crate::InstanceOptions::trace_host_calls`]); off,
    /// a host call costs what it did without tracing (the check is the one
    /// a fault plan already needs). The default does nothing.
    fn trace_host_calls(&mut self, on: bool) {
        let _ = on;
    }

    /// The contract host calls the guest made during the last call, in
    /// order, each with its arguments summarized and the host's answer
    /// ([`HostCall`]), with tracing on; empty otherwise. At most
    /// [`crate::MAX_TRACED_HOST_CALLS`]: the call's
    /// [`crate::InvocationMetrics::host_calls`] counts them all. WASI calls
    /// are not listed (nor counted in `host_calls`). The default is always
    /// empty.
    fn host_call_trace(&self) -> &[HostCall] {
        &[]
    }

    /// Where the instance's clocks and randomness come from (the clock's
    /// kind, the run's seed, the value its `insecure-seed` answers), for a
    /// recording's header. The default knows nothing.
    fn world_info(&self) -> WorldInfo {
        WorldInfo::default()
    }

    /// Starts (`true`) or stops logging what each call reads from the
    /// outside world (the guest's WASI clocks and random generators) and
    /// writes to stdout and stderr; [`ComponentInvoker::take_world`] takes
    /// the log. Off by default: a log nobody takes would grow. A call that
    /// reads and writes none of it costs the same either way. The default
    /// does nothing (an invoker whose guest reads nothing from outside).
    fn log_world(&mut self, on: bool) {
        let _ = on;
    }

    /// What the guest read and wrote since the last take (the last call's,
    /// when taken after every call), with logging on; empty otherwise.
    /// Allocates nothing when nothing was read or written. The default is
    /// always empty.
    fn take_world(&mut self) -> CallWorld {
        CallWorld::default()
    }

    /// Gives the guest's next reads back from `reads` instead of the live
    /// clocks and generators, per interface, in order (the first
    /// `wall-clock.now` gets the first recorded `wall-clock.now`, and so
    /// on); once an interface's recorded values run out, its reads are
    /// live again. Turns logging on (so a replay can compare what the guest
    /// read with `reads`) and replaces the reads scripted before. For
    /// replaying a recorded call: see `crate::world`. The default does
    /// nothing.
    fn script_world(&mut self, reads: &[WorldRead]) {
        let _ = reads;
    }

    /// `lifecycle.init(config)`. Without the lifecycle role, an empty config
    /// is accepted as a no-op and any other is a missing-export fault (the
    /// config would otherwise be silently lost).
    fn init(&mut self, config: &str) -> impl Future<Output = Invocation<()>> + Send;

    /// `processor.process(element)`.
    fn process(
        &mut self,
        element: StreamElement,
    ) -> impl Future<Output = Invocation<ProcessResult>> + Send;

    /// `source.pull()`; `Ok(None)` means the source is exhausted.
    fn pull(&mut self) -> impl Future<Output = Invocation<Option<OutputElement>>> + Send;

    /// `sink.push(element)`.
    fn push(
        &mut self,
        element: StreamElement,
    ) -> impl Future<Output = Invocation<BackpressureSignal>> + Send;

    /// `source.notify-backpressure(signal)`.
    fn notify_backpressure(
        &mut self,
        signal: BackpressureSignal,
    ) -> impl Future<Output = Invocation<()>> + Send;

    /// `sink.complete()`.
    fn complete(&mut self) -> impl Future<Output = Invocation<()>> + Send;

    /// `filter.evaluate(element)`: `true` passes the element on (the host
    /// forwards the same element, no copy), `false` drops it. The element
    /// is lent as `process`'s is.
    fn evaluate(&mut self, element: StreamElement)
    -> impl Future<Output = Invocation<bool>> + Send;

    /// `router.route(element)`: the names of the output ports that receive
    /// the element (empty: dropped). The answer is bounded by
    /// [`crate::Limits::max_route_ports`] and
    /// [`crate::Limits::max_route_bytes`]; a longer one is an
    /// [`crate::FaultKind::AnswerTooLarge`] fault, found from the names'
    /// count and lengths before any is copied.
    fn route(
        &mut self,
        element: StreamElement,
    ) -> impl Future<Output = Invocation<Vec<String>>> + Send;

    /// `aggregator.ingest(element)`: `Some` when an aggregated result is
    /// ready.
    fn ingest(
        &mut self,
        element: StreamElement,
    ) -> impl Future<Output = Invocation<Option<OutputElement>>> + Send;

    /// `aggregator.flush()`: no more elements; what is still buffered. At
    /// most [`crate::Limits::max_flush_outputs`] elements; a longer answer
    /// is an [`crate::FaultKind::AnswerTooLarge`] fault with every buffer
    /// in it reclaimed, as is one whose content types hold more bytes in
    /// all than [`crate::Limits::max_memory_bytes`] (found from their
    /// lengths, before any is copied).
    fn flush(&mut self) -> impl Future<Output = Invocation<Vec<OutputElement>>> + Send;

    /// `lifecycle.teardown()`, best effort: a failure is reported in the
    /// outcome, never raised. Without the lifecycle role it is a no-op; on a
    /// poisoned instance it is skipped and reports the poisoning.
    fn teardown(&mut self) -> impl Future<Output = Invocation<()>> + Send;

    /// Any call, as a value: dispatches `call` to its typed method above
    /// and wraps what it answered in an [`Answer`]. For code that handles
    /// every function the same way (runners, recorders, replays, fuzzers);
    /// a host that knows which function it calls uses the typed method.
    fn call(&mut self, call: Call) -> impl Future<Output = Invocation<Answer>> + Send
    where
        Self: Send,
    {
        async move {
            match call {
                Call::Init(config) => self.init(&config).await.map(Answer::from),
                Call::Process(e) => self.process(e).await.map(Answer::from),
                Call::Pull => self.pull().await.map(Answer::from),
                Call::NotifyBackpressure(s) => self.notify_backpressure(s).await.map(Answer::from),
                Call::Push(e) => self.push(e).await.map(Answer::from),
                Call::Complete => self.complete().await.map(Answer::from),
                Call::Teardown => self.teardown().await.map(Answer::from),
                Call::Evaluate(e) => self.evaluate(e).await.map(Answer::from),
                Call::Route(e) => self.route(e).await.map(Answer::from),
                Call::Ingest(e) => self.ingest(e).await.map(Answer::from),
                Call::Flush => self.flush().await.map(Answer::from),
            }
        }
    }
}
