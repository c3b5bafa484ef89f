//! The `component_bytes` target: arbitrary and mutated component bytes
//! through compile, instantiate and a first call.

use arbitrary::Unstructured;
use torvyn_engine::{BackpressureSignal, Call, ComponentInvoker, Grants, Role, WasmEngine};

use super::{instantiate, setup};
use crate::fuzz::Verdict;
use crate::fuzz::generate::{self, ElementLimits, ElementSpec};
use crate::fuzz::world::{self};

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
            let names: Vec<&'static str> = crate::fuzz::oracle::fuzzed_fixtures()
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
/// panics, hangs and broken invariants ([`CallCheck`](crate::fuzz::oracle::CallCheck) without a fixture
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
    crate::fuzz::observe(|| format!("component_bytes: {case:?}"));
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
