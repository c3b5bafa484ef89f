//! The six fuzz targets. Each takes the fuzzer's bytes, builds a case
//! with the generators, runs it and checks the oracles, panicking when one
//! fails. `fuzz/fuzz_targets/*.rs` call these, and so does the replay test.

use arbitrary::Unstructured;
use torvyn_engine::{
    Answer, BackpressureSignal, Call, ComponentId, ComponentInvoker, FaultKind, Function, Grants,
    InstanceOptions, Invocation, Limits, OutputElement, Role, TrapCode, WasmEngine,
};

use super::Verdict;
use super::generate::{self, ApiOp, ElementLimits, ElementSpec};
use super::oracle::{CallCheck, FIXTURE_OUTCOMES, Observed};
pub use super::recording::recording;
use super::spy::EntryEngine;
use super::world::{self, MODELLED, Setup};
use crate::backend::{SimBackend, block_on};

fn setup(u: &mut Unstructured<'_>) -> arbitrary::Result<Setup> {
    Ok(Setup::ALL[u.choose_index(Setup::ALL.len())?])
}

/// One step of an element stream: the element (processors get it through
/// `process`, sinks through `push`, filters through `evaluate`, routers
/// through `route`, aggregators through `ingest`; sources `pull` instead),
/// maybe a new fuel budget first, maybe a backpressure signal (sources) or
/// `complete` (sinks; `flush` for aggregators) after.
#[derive(Clone, Debug)]
struct Step {
    element: ElementSpec,
    fuel: Option<u64>,
    signal: Option<BackpressureSignal>,
    complete: bool,
}

#[derive(Clone, Debug)]
struct Stream {
    setup: Setup,
    /// Also run the fixtures in [`HEAVY`].
    heavy: bool,
    init: Option<String>,
    steps: Vec<Step>,
    teardown: bool,
}

fn stream(
    u: &mut Unstructured<'_>,
    limits: ElementLimits,
    max: usize,
) -> arbitrary::Result<Stream> {
    let setup = setup(u)?;
    let heavy = generate::one_in(u, 8)?;
    let init = if u.arbitrary()? {
        Some(generate::config_text(u)?)
    } else {
        None
    };
    let n = u.int_in_range(1..=max)?;
    let mut steps = Vec::with_capacity(n);
    for _ in 0..n {
        steps.push(Step {
            fuel: generate::fuel_budget(u)?,
            element: generate::element_spec(u, limits)?,
            signal: if generate::one_in(u, 4)? {
                Some(generate::signal(u)?)
            } else {
                None
            },
            complete: generate::one_in(u, 8)?,
        });
        if u.is_empty() {
            break;
        }
    }
    Ok(Stream {
        setup,
        heavy,
        init,
        steps,
        teardown: u.arbitrary()?,
    })
}

type Instance<B> = <<B as SimBackend>::Engine as WasmEngine>::Instance;
type Compiled<B> = <<B as SimBackend>::Engine as WasmEngine>::Compiled;

/// Calls on one instance of a backend with the oracle checked after each.
struct Checked<'e, B: SimBackend> {
    backend: &'e B,
    fixture: Option<&'e str>,
    inst: Instance<B>,
    /// The engine's limits (the bounds on answers among them).
    limits: Limits,
    budget: u64,
    /// Whether calls return what they did ([`Observed`]) for a comparison:
    /// only `differential` compares, and making one formats the outcome.
    compare: bool,
}

impl<B: SimBackend> Checked<'_, B> {
    fn set_fuel(&mut self, fuel: u64) {
        let result = self.backend.engine().set_fuel(&mut self.inst, fuel);
        if fuel == 0 {
            assert!(result.is_err(), "a zero fuel budget must be refused");
        } else {
            result.unwrap_or_else(|e| panic!("set_fuel({fuel}): {e}"));
            self.budget = fuel;
        }
    }

    /// Checks a finished call with the oracle and returns what it did when
    /// the instance is compared ([`Checked::compare`]).
    fn checked<T: std::fmt::Debug>(
        &self,
        call: Invocation<T>,
        function: Function,
        was_poisoned: bool,
        element: Option<&ElementSpec>,
        config_empty: bool,
    ) -> Option<Observed> {
        let ran = CallCheck {
            fixture: self.fixture,
            function,
            config_empty,
            roles: self.inst.roles(),
            was_poisoned,
            must_reject: element.is_some_and(ElementSpec::must_be_rejected),
            fuel_budget: Some(self.budget),
        }
        .check(&call, &self.inst);
        if ran {
            assert_eq!(
                self.backend.engine().fuel_remaining(&self.inst),
                Some(self.budget.saturating_sub(call.metrics.fuel_consumed)),
                "fuel left after a call is its budget less what it consumed"
            );
            assert_eq!(
                self.backend.engine().memory_usage(&self.inst),
                call.metrics.memory_bytes,
                "the engine reports the memory the call's metrics do"
            );
        }
        super::observe(|| {
            format!(
                "{:?} {function:?}: {:?}, fuel {}, {} ns, memory {}",
                self.fixture,
                Observed::of(&call, &self.inst),
                call.metrics.fuel_consumed,
                call.metrics.duration.as_nanos(),
                call.metrics.memory_bytes
            )
        });
        self.compare.then(|| Observed::of(&call, &self.inst))
    }

    fn poisoned(&self) -> bool {
        self.inst.poisoned().is_some()
    }

    /// Makes `call` (its element built now, stamped by the backend's
    /// clock), checks what the engine bounds in its answer, and checks the
    /// call with the oracle.
    fn call(&mut self, call: &Call<ElementSpec>) -> Option<Observed> {
        let p = self.poisoned();
        let function = call.function();
        let config_empty = matches!(call, Call::Init(config) if config.is_empty());
        let clock = self.backend.clock();
        let made = call.clone().map_element(|e| e.build(clock));
        let inv = block_on(self.inst.call(made));
        match (&inv.outcome, call) {
            (Ok(Answer::Emit(out)), Call::Process(e))
                if self.fixture == Some("capability-probe") =>
            {
                self.check_probe(out, e)
            }
            (Ok(Answer::Ports(ports)), _) => {
                let bytes: u64 = ports.iter().map(|p| p.len() as u64).sum();
                assert!(
                    ports.len() <= self.limits.max_route_ports as usize
                        && bytes <= self.limits.max_route_bytes,
                    "a route answer of {} ports and {bytes} bytes passed the bounds ({} ports, \
                     {} bytes)",
                    ports.len(),
                    self.limits.max_route_ports,
                    self.limits.max_route_bytes
                );
            }
            (Ok(Answer::Flushed(outs)), _) => assert!(
                outs.len() <= self.limits.max_flush_outputs as usize,
                "a flush answer of {} elements passed the bound ({})",
                outs.len(),
                self.limits.max_flush_outputs
            ),
            _ => {}
        }
        self.checked(inv, function, p, call.element(), config_empty)
    }

    /// `capability-probe` answers `granted` exactly when the name in the
    /// payload was granted to the instance.
    fn check_probe(&self, out: &OutputElement, e: &ElementSpec) {
        let name = std::str::from_utf8(&e.payload)
            .unwrap_or_else(|_| panic!("the probe answered a name that is not UTF-8: {e:?}"));
        let granted = self.inst.grants().contains(name);
        assert_eq!(
            &out.payload[..],
            if granted { &b"granted"[..] } else { b"denied" },
            "has-capability({name:?}) with grants {:?}",
            self.inst.grants()
        );
    }

    /// Runs one stream step the way the instance's roles take it.
    /// What each call did when the instance is compared (empty, and no
    /// allocation, otherwise).
    fn step(&mut self, step: &Step) -> Vec<Observed> {
        if let Some(fuel) = step.fuel {
            self.set_fuel(fuel);
        }
        let roles = self.inst.roles();
        let el = || step.element.clone();
        let calls: Vec<Call<ElementSpec>> = if roles.contains(Role::Processor) {
            vec![Call::Process(el())]
        } else if roles.contains(Role::Sink) {
            let push = Call::Push(el());
            if step.complete {
                vec![push, Call::Complete]
            } else {
                vec![push]
            }
        } else if roles.contains(Role::Source) {
            match step.signal {
                Some(signal) => vec![Call::NotifyBackpressure(signal), Call::Pull],
                None => vec![Call::Pull],
            }
        } else if roles.contains(Role::Filter) {
            vec![Call::Evaluate(el())]
        } else if roles.contains(Role::Router) {
            vec![Call::Route(el())]
        } else if roles.contains(Role::Aggregator) {
            let ingest = Call::Ingest(el());
            if step.complete {
                vec![ingest, Call::Flush]
            } else {
                vec![ingest]
            }
        } else {
            Vec::new()
        };
        calls.iter().filter_map(|c| self.call(c)).collect()
    }
}

/// A checked instance of `compiled` on an engine with `limits`, granted
/// `grants` (through `instantiate` when there are none, so both paths are
/// driven).
fn instantiate<'e, B: SimBackend>(
    backend: &'e B,
    compiled: &Compiled<B>,
    fixture: Option<&'e str>,
    limits: Limits,
    grants: &Grants,
) -> Result<Checked<'e, B>, torvyn_engine::EngineError> {
    let id = ComponentId::new(fixture.unwrap_or("generated"));
    let engine = backend.engine();
    let inst = if grants.is_empty() {
        engine.instantiate(compiled, id)?
    } else {
        engine.instantiate_with(compiled, id, &InstanceOptions::with_grants(grants.clone()))?
    };
    assert_eq!(
        inst.live_resources(),
        0,
        "a new instance holds no resources"
    );
    assert!(inst.poisoned().is_none(), "a new instance is not poisoned");
    assert_eq!(
        inst.grants(),
        grants,
        "the instance has the grants it was given"
    );
    Ok(Checked {
        backend,
        fixture,
        inst,
        limits,
        budget: limits.fuel_per_call,
        compare: false,
    })
}

/// Fixtures whose first call costs far more than the rest (`stdout-flood`
/// writes 4 MiB through WASI, which coverage instrumentation makes slow):
/// `invoke_elements` runs one only when the input also asks for the heavy
/// fixtures (one input in eight), and the next fixture otherwise.
const HEAVY: [&str; 1] = ["stdout-flood"];

/// The fixture an `invoke_elements` input drives: the first byte picks a
/// row of [`FIXTURE_OUTCOMES`]; a heavy one (`HEAVY`) only when the
/// stream asks for heavy fixtures, else the row after it.
pub fn invoke_elements_fixture(data: &[u8]) -> Option<&'static str> {
    let (_, data) = generate::split_host_fault_plan(data);
    invoke_elements_case(&mut Unstructured::new(data))
        .ok()
        .map(|(fixture, _)| fixture)
}

fn invoke_elements_case(u: &mut Unstructured<'_>) -> arbitrary::Result<(&'static str, Stream)> {
    let mut index = u.choose_index(FIXTURE_OUTCOMES.len())?;
    let stream = stream(u, ElementLimits::ANY, 12)?;
    if !stream.heavy && HEAVY.contains(&FIXTURE_OUTCOMES[index].0) {
        index = (index + 1) % FIXTURE_OUTCOMES.len();
    }
    Ok((FIXTURE_OUTCOMES[index].0, stream))
}

/// Target `invoke_elements`: an arbitrary element stream (payloads, content
/// types, sequence numbers, deadlines, fuel budgets, signals) through one
/// fixture of [`FIXTURE_OUTCOMES`] the input picks, hostile ones included
/// (the heavy ones when the stream asks for them:
/// [`invoke_elements_fixture`]), on one of the engine setups. Oracle:
/// [`CallCheck`] after every call.
///
/// One fixture per input, not every fixture: a case costs one
/// instantiation and its calls, and which fixture it drove is part of what
/// the fuzzer's coverage feedback sees, so each fixture's corpus grows on
/// its own.
pub fn invoke_elements(data: &[u8]) -> Verdict {
    let _case = world::case();
    let (plan, data) = generate::split_host_fault_plan(data);
    let mut u = Unstructured::new(data);
    let Ok((fixture, stream)) = invoke_elements_case(&mut u) else {
        return Verdict::Discarded;
    };
    let backend = world::backend(stream.setup);
    let limits = backend.wasmtime().config().limits;
    let compiled = world::compiled(stream.setup, fixture);
    let mut c = instantiate(
        backend,
        &compiled,
        Some(fixture),
        limits,
        &Grants::default(),
    )
    .unwrap_or_else(|e| panic!("instantiate {fixture}: {e}"));
    c.inst.set_host_faults(plan);
    if let Some(config) = &stream.init {
        c.call(&Call::Init(config.clone()));
    }
    for step in &stream.steps {
        c.step(step);
    }
    if stream.teardown {
        c.call(&Call::Teardown);
    }
    Verdict::Checked
}

/// Whether a Wasmtime outcome depends on the host rather than the input
/// (stack depth, memory, host failures): such cases are discarded by the
/// differential target instead of compared.
fn host_dependent(kind: &FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::Trap {
            code: TrapCode::StackOverflow,
            ..
        } | FaultKind::MemoryLimitExceeded { .. }
            | FaultKind::Host { .. }
    )
}

/// Target `differential`: an arbitrary element stream through a benign
/// fixture and through its mock model ([`torvyn_engine::mock::models`]);
/// both must agree on every call's outcome and accounting ([`Observed`]),
/// fuel and time aside. Cases where the fixture's outcome depends on the
/// host (stack overflow, out of memory, host failures) are discarded.
pub fn differential(data: &[u8]) -> Verdict {
    let _case = world::case();
    let mut u = Unstructured::new(data);
    let case = (|| -> arbitrary::Result<_> {
        let fixture = MODELLED[u.choose_index(MODELLED.len())?];
        let mut s = stream(&mut u, ElementLimits::COMPARABLE, 16)?;
        // Budgets are the defaults: modelled fuel is not real fuel.
        for step in &mut s.steps {
            step.fuel = None;
        }
        if s.setup == Setup::Pooled {
            s.setup = Setup::Cranelift;
        }
        Ok((fixture, s))
    })();
    let Ok((fixture, stream)) = case else {
        return Verdict::Discarded;
    };

    let real_backend = world::backend(stream.setup);
    let compiled = world::compiled(stream.setup, fixture);
    let limits = real_backend.wasmtime().config().limits;
    let mut real = instantiate(
        real_backend,
        &compiled,
        Some(fixture),
        limits,
        &Grants::default(),
    )
    .unwrap_or_else(|e| panic!("instantiate {fixture}: {e}"));
    let mock_backend = world::mock();
    let mut mock = instantiate(
        mock_backend,
        &world::mock_compiled(fixture),
        Some(fixture),
        mock_backend.mock().config().limits,
        &Grants::default(),
    )
    .unwrap_or_else(|e| panic!("instantiate the mock {fixture}: {e}"));
    real.compare = true;
    mock.compare = true;

    let compare = |r: Vec<Observed>, m: Vec<Observed>, what: &dyn std::fmt::Debug| {
        let (r, m) = (comparable(r), comparable(m));
        assert_eq!(
            m, r,
            "{fixture}: the mock differs from the fixture ({:?}) at {what:?}",
            stream.setup
        );
    };
    if let Some(config) = &stream.init {
        let init = Call::Init(config.clone());
        let r = real.call(&init);
        let m = mock.call(&init);
        compare(
            Vec::from_iter(r),
            Vec::from_iter(m),
            &format!("init({config:?})"),
        );
    }
    for step in &stream.steps {
        // Run the real step first: a host-dependent outcome discards the
        // case before the mock is compared.
        let before = real.inst.poisoned().is_some();
        let r = real.step(step);
        if !before
            && real
                .inst
                .poisoned()
                .is_some_and(|f| host_dependent(&f.kind))
        {
            return Verdict::Discarded;
        }
        let m = mock.step(step);
        compare(r, m, step);
    }
    if stream.teardown {
        let r = real.call(&Call::Teardown);
        let m = mock.call(&Call::Teardown);
        compare(Vec::from_iter(r), Vec::from_iter(m), &"teardown");
    }
    Verdict::Checked
}

/// Observations with the clock-dependent part of a refusal removed: how
/// long ago a deadline passed depends on each engine's clock history.
fn comparable(mut seen: Vec<Observed>) -> Vec<Observed> {
    for o in &mut seen {
        if let Some(at) = o.outcome.find("the flow's deadline passed ") {
            o.outcome.truncate(at + "the flow's deadline passed".len());
        }
    }
    seen
}

/// The backend an `api_sequence` case drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiBackend {
    /// A Wasmtime setup, with every fixture of [`FIXTURE_OUTCOMES`].
    Wasmtime(Setup),
    /// The mock, with the modelled fixtures ([`MODELLED`]).
    Mock,
}

impl ApiBackend {
    /// The fixtures an [`ApiOp::Instantiate`] index picks from.
    pub fn fixtures(self) -> Vec<&'static str> {
        match self {
            Self::Wasmtime(_) => super::oracle::fuzzed_fixtures().collect(),
            Self::Mock => MODELLED.to_vec(),
        }
    }
}

/// What `api_sequence` makes of an input: a backend and the calls on it.
#[derive(Clone, Debug)]
pub struct ApiCase {
    /// The backend.
    pub backend: ApiBackend,
    /// The calls, in order ([`generate::api_ops`]).
    pub ops: Vec<ApiOp>,
    /// The host calls every instance fails
    /// ([`generate::split_host_fault_plan`]).
    pub host_faults: torvyn_engine::HostFaultPlan,
}

/// Decodes an `api_sequence` input; `None` when the target discards it.
pub fn api_case(data: &[u8]) -> Option<ApiCase> {
    let (host_faults, data) = generate::split_host_fault_plan(data);
    let mut u = Unstructured::new(data);
    let backend = match u.int_in_range(0..=3u8).ok()? {
        3 => ApiBackend::Mock,
        i => ApiBackend::Wasmtime(Setup::ALL[usize::from(i)]),
    };
    let ops = generate::api_ops(&mut u, backend.fixtures().len(), 48).ok()?;
    Some(ApiCase {
        backend,
        ops,
        host_faults,
    })
}

/// Target `api_sequence`: arbitrary sequences of engine and invoker calls
/// (instantiate, instantiate with grants, set fuel, process, pull, push,
/// notify, complete, init, teardown, evaluate, route, ingest, flush, drop)
/// over several live instances, on a Wasmtime setup (every fixture) or the
/// mock (the modelled ones) ([`api_case`]). The generator names only live
/// instances; the oracle ([`CallCheck`]) runs after every call, so
/// poisoning, missing exports, resource accounting and the bounds on
/// answers are checked at every step; an instance has the grants it was
/// given, and `capability-probe` answers by them; every other live
/// instance (its poisoning, resources and grants) must be untouched by a
/// call on one.
pub fn api_sequence(data: &[u8]) -> Verdict {
    let _case = world::case();
    let Some(case) = api_case(data) else {
        return Verdict::Discarded;
    };
    let fixtures = case.backend.fixtures();
    match case.backend {
        ApiBackend::Wasmtime(setup) => {
            let backend = world::backend(setup);
            run_api(
                backend,
                &fixtures,
                &case,
                backend.wasmtime().config().limits,
                |f| world::compiled(setup, f),
            );
        }
        ApiBackend::Mock => {
            let backend = world::mock();
            run_api(
                backend,
                &fixtures,
                &case,
                backend.mock().config().limits,
                world::mock_compiled,
            );
        }
    }
    Verdict::Checked
}

fn run_api<'e, B: SimBackend>(
    backend: &'e B,
    fixtures: &[&'static str],
    case: &ApiCase,
    limits: Limits,
    compile: impl Fn(&'static str) -> Compiled<B>,
) {
    let mut live: Vec<Checked<'e, B>> = Vec::new();
    for op in &case.ops {
        // What every other instance looks like before the call.
        let others = |live: &[Checked<'e, B>], skip: usize| -> Vec<(bool, usize, Grants)> {
            live.iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| {
                    (
                        c.poisoned(),
                        c.inst.live_resources(),
                        c.inst.grants().clone(),
                    )
                })
                .collect()
        };
        let index = op.instance().unwrap_or(usize::MAX);
        let before = others(&live, index);
        let spawn = |f: usize, grants: &Grants| {
            let fixture = fixtures[f];
            let compiled = compile(fixture);
            let mut c = instantiate(backend, &compiled, Some(fixture), limits, grants)
                .unwrap_or_else(|e| panic!("instantiate {fixture} granted {grants:?}: {e}"));
            c.inst.set_host_faults(case.host_faults);
            c
        };
        match op {
            ApiOp::Instantiate(f) => live.push(spawn(*f, &Grants::default())),
            ApiOp::InstantiateWith(f, names) => live.push(spawn(*f, &Grants::new(names))),
            ApiOp::Drop(i) => {
                live.remove(*i);
            }
            ApiOp::SetFuel(i, fuel) => live[*i].set_fuel(*fuel),
            ApiOp::Call(i, call) => {
                live[*i].call(call);
            }
        }
        let after = match op {
            ApiOp::Instantiate(_) | ApiOp::InstantiateWith(..) => others(&live, live.len() - 1),
            ApiOp::Drop(_) => others(&live, usize::MAX),
            _ => others(&live, index),
        };
        assert_eq!(after, before, "{op:?} changed another instance");
    }
}

/// A candidate component: arbitrary bytes, a fixture with byte edits, or a
/// core module wasm-smith generated with the exports and imports of a
/// fixture's canonical-ABI module, componentized for its world.
#[derive(Debug)]
enum Candidate {
    Raw(Vec<u8>),
    Mutated(&'static str, Vec<generate::Edit>),
    /// A wasm-smith module shaped like `SHAPES[index]`.
    Generated(usize, Vec<u8>),
}

/// The fixtures whose core modules give wasm-smith its shapes, one per
/// world: the contract's four (`transform`, `managed-transform`,
/// `data-source`, `data-sink`), then the extension worlds
/// (`content-filter` in the unversioned spelling, `content-router`,
/// `stream-aggregator` unversioned) and `capability-probe`'s world, whose
/// module imports `has-capability`.
pub const SHAPES: [&str; 8] = [
    "uppercase",
    "lifecycle",
    "counter-source",
    "sink",
    "token-filter",
    "router",
    "sentence-aggregator",
    "capability-probe",
];

/// The shape bytes that pick one of the last four [`SHAPES`] (by the byte
/// modulo 4); any other byte picks the contract shape it picked before
/// those existed (`SHAPES[byte % 4]`). No input committed then
/// (`fuzz/corpus/component_bytes/`) has a shape byte in this range, so each
/// keeps its shape.
pub const EXTENSION_SHAPE_BYTES: std::ops::RangeInclusive<u8> = 0..=31;

/// The index in [`SHAPES`] a shape byte picks.
fn shape_index(byte: u8) -> usize {
    let i = usize::from(byte % 4);
    if EXTENSION_SHAPE_BYTES.contains(&byte) {
        4 + i
    } else {
        i
    }
}

/// A fixture's canonical-ABI core module and its world.
struct Shape {
    module: Vec<u8>,
    world: String,
}

/// The [`Shape`] of every fixture in [`SHAPES`], in its order, parsed once
/// per process.
fn shapes() -> &'static [Shape] {
    static PARSED: std::sync::LazyLock<Vec<Shape>> = std::sync::LazyLock::new(|| {
        SHAPES
            .iter()
            .map(|fixture| {
                let path = crate::fixtures::fixture_path(fixture);
                let text = std::fs::read_to_string(&path).expect("fixture text");
                let module = wat::parse_str(&text).expect("fixture parses");
                let world = match crate::fixtures::world_directive(&text) {
                    Some(w) => w,
                    None => crate::fixtures::infer_world(&module)
                        .expect("world")
                        .to_string(),
                };
                Shape { module, world }
            })
            .collect()
    });
    &PARSED
}

fn smith_config(shape: &[u8]) -> wasm_smith::Config {
    wasm_smith::Config {
        available_imports: Some(shape.to_vec()),
        exports: Some(shape.to_vec()),
        max_funcs: 20,
        max_instructions: 200,
        max_memories: 0,
        max_tables: 1,
        reference_types_enabled: false,
        max_data_segments: 4,
        max_memory32_bytes: 4 << 20,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        custom_descriptors_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        tail_call_enabled: false,
        ..wasm_smith::Config::default()
    }
}

fn candidate(u: &mut Unstructured<'_>) -> arbitrary::Result<Candidate> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 | 1 => {
            let len = u.int_in_range(0..=2048usize)?.min(u.len());
            Candidate::Raw(u.bytes(len)?.to_vec())
        }
        2..=4 => {
            let names: Vec<&'static str> = super::oracle::fuzzed_fixtures()
                .chain(["wrong-types"])
                .collect();
            let fixture = names[u.choose_index(names.len())?];
            Candidate::Mutated(fixture, generate::edits(u, 6)?)
        }
        _ => {
            let shape = shape_index(u.arbitrary()?);
            let module = wasm_smith::Module::new(smith_config(&shapes()[shape].module), u)?;
            Candidate::Generated(shape, module.to_bytes())
        }
    })
}

/// Target `component_bytes`: arbitrary bytes, fixtures with byte edits, and
/// wasm-smith modules with a fixture's imports and exports (componentized
/// for its world: [`SHAPES`], the extension worlds included) through
/// compile, instantiate and one call of each exported function
/// (`evaluate`, `route`, `ingest` and `flush` included) with a small fuel
/// budget. Errors are expected;
/// panics, hangs and broken invariants ([`CallCheck`] without a fixture
/// row) are not.
pub fn component_bytes(data: &[u8]) -> Verdict {
    match component_bytes_reach(data) {
        Reach::Discarded => Verdict::Discarded,
        _ => Verdict::Checked,
    }
}

/// How far a `component_bytes` candidate got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The input made no candidate, or wit-component refused the generated
    /// module (nothing reached the engine).
    Discarded,
    /// `compile` refused it.
    Compile,
    /// `instantiate` refused it.
    Instantiate,
    /// Its exported functions were called.
    Called,
}

/// [`component_bytes`], telling how far the candidate got and what it was
/// (`raw`, `mutated` or `generated`).
pub fn component_bytes_reach(data: &[u8]) -> Reach {
    component_bytes_case(data).0
}

/// [`component_bytes_reach`], the kind of candidate and, for a generated
/// one, the fixture whose shape it has (one of [`SHAPES`]).
pub fn component_bytes_case(data: &[u8]) -> (Reach, &'static str, Option<&'static str>) {
    let _case = world::case();
    let case = component_bytes_run(data);
    super::observe(|| format!("component_bytes: {case:?}"));
    case
}

fn component_bytes_run(data: &[u8]) -> (Reach, &'static str, Option<&'static str>) {
    let mut u = Unstructured::new(data);
    let case = (|| -> arbitrary::Result<_> {
        let setup = setup(&mut u)?;
        let candidate = candidate(&mut u)?;
        let element = generate::element_spec(&mut u, ElementLimits::COMPARABLE)?;
        let config = generate::config_text(&mut u)?;
        let fuel = u.int_in_range(1..=generate::MAX_GENERATED_FUEL / 4)?;
        Ok((setup, candidate, element, config, fuel))
    })();
    let Ok((setup, candidate, element, config, fuel)) = case else {
        return (Reach::Discarded, "none", None);
    };
    let shape = match &candidate {
        Candidate::Generated(shape, _) => Some(SHAPES[*shape]),
        _ => None,
    };
    let (bytes, kind) = match &candidate {
        Candidate::Raw(b) => (b.clone(), "raw"),
        Candidate::Mutated(fixture, edits) => {
            let original = world::fixture_bytes(fixture);
            (generate::apply_edits(&original, edits), "mutated")
        }
        Candidate::Generated(index, module) => {
            match crate::fixtures::componentize(module, Some(&shapes()[*index].world)) {
                Ok(c) => (c, "generated"),
                // wit-component refused the module: nothing reaches the
                // engine, which is not what this target tests.
                Err(_) => return (Reach::Discarded, "generated", shape),
            }
        }
    };
    let backend = world::backend(setup);
    let engine = backend.wasmtime();
    let compiled = match engine.compile(&bytes) {
        Ok(c) => c,
        Err(e) => {
            if kind == "generated" && std::env::var_os("TORVYN_FUZZ_DEBUG").is_some() {
                eprintln!("generated candidate refused: {e}");
            }
            return (Reach::Compile, kind, shape);
        }
    };
    let Ok(mut c) = instantiate(
        backend,
        &compiled,
        None,
        engine.config().limits,
        &Grants::default(),
    ) else {
        return (Reach::Instantiate, kind, shape);
    };
    c.set_fuel(fuel);
    // Every function of every role the component exports, in the order a
    // runtime would call them.
    let roles = c.inst.roles();
    let el = || element.clone();
    let by_role: [(Role, Vec<Call<ElementSpec>>); 7] = [
        (Role::Lifecycle, vec![Call::Init(config.clone())]),
        (Role::Processor, vec![Call::Process(el())]),
        (
            Role::Source,
            vec![
                Call::NotifyBackpressure(BackpressureSignal::Pause),
                Call::Pull,
            ],
        ),
        (Role::Sink, vec![Call::Push(el()), Call::Complete]),
        (Role::Filter, vec![Call::Evaluate(el())]),
        (Role::Router, vec![Call::Route(el())]),
        (Role::Aggregator, vec![Call::Ingest(el()), Call::Flush]),
    ];
    for (role, calls) in &by_role {
        if roles.contains(*role) {
            for call in calls {
                c.call(call);
            }
        }
    }
    c.call(&Call::Teardown);
    (Reach::Called, kind, shape)
}

/// Target `cache_entry`: arbitrary bytes as the disk cache entry of a
/// compiled component (on the mock engine, or one input in 32 on Wasmtime
/// with Winch, whose recompile per rejected entry is slow) ([`generate::cache_entry`]: raw bytes, edits of the valid
/// entry, its header over a foreign payload, or the valid entry). Oracle:
/// nothing that `serialize` did not produce reaches `deserialize`
/// ([`super::spy::SpyEngine`]); an entry other than the valid one is
/// rejected and recompiled; nothing panics; afterwards the entry is valid
/// again.
pub fn cache_entry(data: &[u8]) -> Verdict {
    let _case = world::case();
    let mut u = Unstructured::new(data);
    let case = (|| -> arbitrary::Result<_> {
        let engine = if generate::one_in(&mut u, 32)? {
            EntryEngine::Wasmtime
        } else {
            EntryEngine::Mock
        };
        Ok((engine, generate::cache_entry(&mut u)?))
    })();
    let Ok((engine, case)) = case else {
        return Verdict::Discarded;
    };
    super::spy::check_entry(engine, &case);
    Verdict::Checked
}
