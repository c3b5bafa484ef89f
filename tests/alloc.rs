//! Heap allocations per call on the Wasmtime backend's hot path, counted by
//! a counting global allocator (its own test binary: the allocator is
//! process-wide, and `tests/all` is shared).
//!
//! Each test warms an instance up, then counts the allocations the test's
//! thread makes over `CALLS` steady-state calls and asserts the count per
//! call equals the floor: what Wasmtime and the generated bindings allocate
//! for that call (and the buffer a guest asks for with `allocate`, which
//! is the contract's), with nothing from the engine. Each floor is listed
//! at its test, with where Wasmtime makes it. They were attributed by
//! capturing a backtrace at every counted allocation (`ALLOC_BACKTRACES=1`
//! prints them) and by counting the minimal `bindgen!` host
//! (`torvyn_harness::bench::Baseline`, which keeps `Vec<u8>` buffers in a
//! `ResourceTable`) over the same fixture the same way: it makes the same
//! Wasmtime allocations and its own besides (a `Box` per table entry, a
//! copy of every payload and content type), so the engine must never make
//! more than it does. An allocation the engine adds back (a `String` per
//! call, a `Vec` of metrics, a boxed error) makes the count exceed the
//! floor, and the test says so.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig, WasmtimeInvoker};
use torvyn_engine::{
    Bytes, ComponentId, ContentType, ElementMeta, FlowContext, ProcessResult, StreamElement,
    WasmEngine,
};
use torvyn_harness::bench::{Baseline, BaselineInstance};

/// Counts the allocations (and reallocations) of threads that turned
/// counting on; every other thread (the test harness, the epoch ticker)
/// allocates uncounted.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            if BACKTRACES.load(Ordering::Relaxed) {
                // Uncounted while printing (which allocates).
                on.set(false);
                eprintln!("allocation:\n{}", Backtrace::force_capture());
                on.set(true);
            }
        }
    });
}

/// `ALLOC_BACKTRACES=1`: print a backtrace at every counted allocation
/// (read once, before counting starts: reading it allocates).
static BACKTRACES: AtomicBool = AtomicBool::new(false);

// SAFETY: every method forwards to `System` with the caller's arguments;
// counting touches only const-initialized thread-locals, which never
// allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Steady-state calls counted per measurement.
const CALLS: u64 = 500;
/// Calls before counting (lazy initialization, grown tables and slabs).
const WARM_UP: u64 = 200;

/// The allocations `call` makes on this thread, per call, over `CALLS`
/// calls after `WARM_UP` uncounted ones. Exact: a fraction means some calls
/// allocate and some do not, and is reported as such.
fn per_call(mut call: impl FnMut(u64)) -> f64 {
    BACKTRACES.store(
        std::env::var_os("ALLOC_BACKTRACES").is_some_and(|v| v == "1"),
        Ordering::Relaxed,
    );
    for i in 0..WARM_UP {
        call(i);
    }
    COUNT.with(|c| c.set(0));
    COUNTING.with(|on| on.set(true));
    for i in WARM_UP..WARM_UP + CALLS {
        call(i);
    }
    COUNTING.with(|on| on.set(false));
    COUNT.with(|c| c.get()) as f64 / CALLS as f64
}

const TEXT: ContentType = ContentType::from_static("text/plain");

/// Elements as a streaming host forwards them: a shared payload, a shared
/// content type and one flow context with ids, cloned per element (which
/// must not allocate either: the clone happens inside the counted loop).
struct Elements {
    payload: Bytes,
    context: FlowContext,
}

impl Elements {
    fn new(bytes: usize) -> Self {
        Self {
            payload: Bytes::from(vec![b'a'; bytes]),
            context: FlowContext::new("flow-1")
                .with_trace("0".repeat(32), "1".repeat(16))
                .with_deadline_ns(u64::MAX / 2),
        }
    }

    fn get(&self, sequence: u64) -> StreamElement {
        StreamElement {
            meta: ElementMeta {
                sequence,
                timestamp_ns: 0,
                content_type: TEXT.clone(),
            },
            payload: self.payload.clone(),
            context: self.context.clone(),
        }
    }
}

fn engine_instance(fixture: &str, init: &str) -> WasmtimeInvoker {
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default()).expect("engine");
    let bytes = torvyn_harness::fixtures::load_fixture(fixture).expect("fixture");
    let compiled = engine.compile(&bytes).expect("compile");
    let mut inst = engine
        .instantiate(&compiled, ComponentId::new(fixture))
        .expect("instantiate");
    if !init.is_empty() {
        inst.init_sync(init).outcome.expect("init");
    }
    inst
}

fn baseline_instance(fixture: &str, init: &str) -> BaselineInstance {
    let bytes = torvyn_harness::fixtures::load_fixture(fixture).expect("fixture");
    let mut inst = Baseline::new(&WasmtimeEngineConfig::default(), &bytes, fixture)
        .expect("baseline")
        .instantiate()
        .expect("instantiate the baseline");
    inst.init(init).expect("init");
    inst
}

/// Asserts the engine's count is the floor, and no more than the minimal
/// host's.
fn assert_floor(call: &str, engine: f64, floor: f64, baseline: f64) {
    assert_eq!(
        engine, floor,
        "{call}: the engine made {engine} heap allocations per call, where Wasmtime, the \
         bindings and the guest's own buffers make {floor}; find the engine's \
         (ALLOC_BACKTRACES=1 cargo test -p torvyn-engine --test alloc -- --test-threads 1) \
         and remove it"
    );
    assert!(
        engine <= baseline,
        "{call}: the engine made {engine} allocations per call, the minimal bindgen host \
         {baseline}"
    );
}

/// An exhausted source's `pull`: the engine's fixed cost per call.
/// Wasmtime lifts `option<output-element>` = `none` without allocating:
/// the floor is 0, and the minimal host makes none either.
#[test]
fn an_empty_pull_allocates_nothing() {
    let mut inst = engine_instance("counter-source", "{\"count\": 0}");
    let engine = per_call(|_| {
        let call = inst.pull_sync();
        assert_eq!(call.outcome.expect("pull"), None);
    });
    let mut base = baseline_instance("counter-source", "{\"count\": 0}");
    let baseline = per_call(|_| {
        assert_eq!(base.pull().expect("pull"), None);
    });
    assert_floor("pull (exhausted counter-source)", engine, 0.0, baseline);
    assert_eq!(baseline, 0.0, "the minimal host's empty pull allocated");
}

/// `passthrough` emits a clone of its input: the engine lends the payload
/// and flow context, clones the payload into a mutable buffer and hands the
/// same bytes back, none of it copied or allocated. Floor 2, both
/// Wasmtime's: a host call on a handle the guest owns (`freeze` on its
/// mutable buffer) records the lender in a `Vec` of the host call's scope
/// (`ResourceTables::resource_lift_borrow`; calls on the handles the engine
/// lent record nothing), and the output element's `content-type` is lifted
/// as a `String`.
#[test]
fn process_allocates_only_what_wasmtime_lifts() {
    let elements = Elements::new(64);
    let mut inst = engine_instance("passthrough", "");
    let engine = per_call(|seq| {
        let call = inst.process_sync(elements.get(seq));
        match call.outcome.expect("process") {
            ProcessResult::Emit(out) => assert_eq!(out.payload.len(), 64),
            ProcessResult::Drop => panic!("passthrough dropped an element"),
        }
    });
    let mut base = baseline_instance("passthrough", "");
    let payload = vec![b'a'; 64];
    let baseline = per_call(|seq| {
        let out = base.process(seq, &payload, "text/plain").expect("process");
        assert_eq!(out.map(|o| o.len()), Some(64));
    });
    assert_floor("process (passthrough, 64 B)", engine, 2.0, baseline);
}

/// `uppercase` reads the payload, allocates a buffer, appends to it and
/// sets its content type. Floor 6: the `Vec<u8>` the host returns from
/// `read-all` (the bindings lower `list<u8>` from an owned `Vec`), the
/// lender scopes of its three host calls on the mutable buffer it owns
/// (`append`, `set-content-type`, `freeze`; see the passthrough test), the output's
/// `content-type` lifted as a `String`, and the guest's own buffer (the
/// bytes `allocate` and `append` make, which move to the caller as they
/// are). `append`'s bytes and `set-content-type`'s string are read from
/// guest memory into a buffer the store keeps (lifted as `Vec<u8>` and
/// `String`, they were one allocation each).
#[test]
fn uppercase_allocates_only_its_buffer_and_what_wasmtime_lifts() {
    let elements = Elements::new(1024);
    let mut inst = engine_instance("uppercase", "");
    let engine = per_call(|seq| {
        let call = inst.process_sync(elements.get(seq));
        match call.outcome.expect("process") {
            ProcessResult::Emit(out) => assert_eq!(&out.payload[..3], b"AAA"),
            ProcessResult::Drop => panic!("uppercase dropped an element"),
        }
    });
    let mut base = baseline_instance("uppercase", "");
    let payload = vec![b'a'; 1024];
    let baseline = per_call(|seq| {
        let out = base.process(seq, &payload, "text/plain").expect("process");
        assert_eq!(out.map(|o| o.len()), Some(1024));
    });
    assert_floor("process (uppercase, 1 KiB)", engine, 6.0, baseline);
}

/// `sink` reads every payload: floor 1, the `Vec<u8>` `read-all` returns
/// for the bindings to lower.
#[test]
fn push_allocates_only_what_the_bindings_lower() {
    let elements = Elements::new(64);
    let mut inst = engine_instance("sink", "{\"count\": 1000000}");
    let engine = per_call(|seq| {
        inst.push_sync(elements.get(seq)).outcome.expect("push");
    });
    let mut base = baseline_instance("sink", "{\"count\": 1000000}");
    let payload = vec![b'a'; 64];
    let baseline = per_call(|seq| {
        base.push(seq, &payload, "text/plain").expect("push");
    });
    assert_floor("push (sink, 64 B)", engine, 1.0, baseline);
}

/// Forwarding an element to the next stage clones its flow context: one
/// reference-count increment, no allocation, whatever ids it carries.
#[test]
fn forwarding_a_flow_context_allocates_nothing() {
    let elements = Elements::new(16);
    let per = per_call(|seq| {
        let el = elements.get(seq);
        let next = el.clone();
        assert_eq!(next.context.flow_id(), "flow-1");
        assert_eq!(next.context.span_id().len(), 16);
    });
    assert_eq!(per, 0.0, "cloning an element allocated");
}
