//! The engines and compiled fixtures the targets share within a process,
//! built once: compiling every fixture for every input would leave no time
//! to fuzz.
//!
//! Every engine here runs on a virtual clock, and each case runs inside a
//! [`Case`] ([`case`]): one case at a time per process, every clock back
//! at zero when it starts. So an input gives one result whatever ran
//! before it or beside it (another test thread, an earlier input), which
//! `tests/all/fuzz_replay.rs::every_target_replays_the_same_way_twice`
//! checks.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use torvyn_engine::Clock;

use torvyn_engine::mock::MockCompiled;
use torvyn_engine::wasmtime::{PoolingConfig, WasmtimeCompiled};
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{CompilationStrategy, Limits, RandomSource, WasmEngine};

use crate::backend::{EngineSettings, MockBackend, SimBackend, WasmtimeBackend};
use crate::source::ComponentSource;

/// The seed of the guests' WASI randomness in every fuzz engine.
pub const FUZZ_SEED: u64 = 0xF022_5EED;

/// A Wasmtime engine setup a target can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Setup {
    /// Cranelift, on-demand allocation.
    Cranelift,
    /// Winch, on-demand allocation.
    Winch,
    /// Cranelift with the pooling allocator.
    Pooled,
}

impl Setup {
    /// Every setup.
    pub const ALL: [Setup; 3] = [Setup::Cranelift, Setup::Winch, Setup::Pooled];

    fn config(self) -> WasmtimeEngineConfig {
        let strategy = match self {
            Setup::Winch => CompilationStrategy::Winch,
            _ => CompilationStrategy::Cranelift,
        };
        // Smaller limits than the defaults, so that the hostile fixtures
        // reach them (and fault) in a few milliseconds: the fuzzer then
        // runs many more inputs. The limits' enforcement is the same.
        WasmtimeEngineConfig {
            limits: Limits {
                max_memory_bytes: 4 << 20,
                max_buffer_bytes_per_instance: 4 << 20,
                fuel_per_call: 5_000_000,
                ..Limits::default()
            },
            random: RandomSource::Seeded(FUZZ_SEED),
            pooling: (self == Setup::Pooled).then(PoolingConfig::default),
            max_wasm_stack: 256 << 10,
            max_captured_output: 4 << 10,
            // The epoch only backs the 10 s call deadline here (fuel
            // stops a hostile guest first): a tick every 10 ms instead of
            // every millisecond wakes a thread per engine a tenth as often.
            epoch_tick: std::time::Duration::from_millis(10),
            ..WasmtimeEngineConfig::with_strategy(strategy)
        }
    }
}

struct World {
    backends: HashMap<Setup, WasmtimeBackend>,
    compiled: Mutex<HashMap<(Setup, &'static str), WasmtimeCompiled>>,
}

/// What every fuzz backend runs with: the virtual clock (a case replays
/// the same way whatever the machine does) and the fuzz seed.
fn settings() -> EngineSettings {
    EngineSettings::deterministic(FUZZ_SEED)
}

static WORLD: LazyLock<World> = LazyLock::new(|| World {
    backends: Setup::ALL
        .into_iter()
        .map(|s| {
            let backend = WasmtimeBackend::with_config(s.config(), &settings())
                .unwrap_or_else(|e| panic!("the fuzz engine {s:?}: {e}"));
            register_clock(&format!("{s:?}"), backend.clock());
            (s, backend)
        })
        .collect(),
    compiled: Mutex::default(),
});

/// The clock of every fuzz engine made so far, by name, reset by [`case`].
static CLOCKS: Mutex<Vec<(String, Clock)>> = Mutex::new(Vec::new());

/// One case at a time per process.
static CASE: Mutex<()> = Mutex::new(());

/// Registers the clock of an engine a target uses under `name`, so that
/// every case starts it at zero. Panics on a system clock: a target must not read
/// one (the oracles assume that no time passes between building an
/// element and the engine admitting it, and a replay must repeat).
pub fn register_clock(name: &str, clock: &Clock) {
    assert!(
        clock.is_virtual(),
        "a fuzz engine must run on the virtual clock (a real clock makes an input replay differently)"
    );
    CLOCKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((name.to_string(), clock.clone()));
}

/// A case in progress: while it lives no other case of this process runs,
/// and it started with every fuzz clock at zero.
#[derive(Debug)]
pub struct Case {
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Drop for Case {
    /// Records where every fuzz clock the case moved ended (for
    /// [`super::run_observed`]), by name: which clocks exist depends on
    /// what ran earlier in the process, which ones moved does not.
    fn drop(&mut self) {
        super::observe(|| {
            let clocks = CLOCKS.lock().unwrap_or_else(PoisonError::into_inner);
            let mut moved: Vec<(&str, u64)> = clocks
                .iter()
                .map(|(name, clock)| (name.as_str(), clock.now_ns()))
                .filter(|(_, ns)| *ns != 0)
                .collect();
            moved.sort_unstable();
            format!("clocks at the end (ns): {moved:?}")
        });
    }
}

/// Starts a case: waits for any other case of the process to end (test
/// threads share these engines), then takes every fuzz engine's clock back
/// to zero. A panicking case (a failed oracle) leaves nothing behind that
/// the next one depends on.
pub fn case() -> Case {
    let guard = CASE.lock().unwrap_or_else(PoisonError::into_inner);
    for (_, clock) in CLOCKS.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        clock.reset();
    }
    Case {
        _one_at_a_time: guard,
    }
}

/// The shared backend for `setup` (virtual clock, seeded randomness).
pub fn backend(setup: Setup) -> &'static WasmtimeBackend {
    &WORLD.backends[&setup]
}

/// The shared engine for `setup` (virtual clock, seeded randomness).
pub fn engine(setup: Setup) -> &'static WasmtimeEngine {
    backend(setup).wasmtime()
}

/// `fixture` compiled on [`engine`]`(setup)`, once per process (keyed by
/// the static name: no allocation per lookup in the fuzz loop).
pub fn compiled(setup: Setup, fixture: &'static str) -> WasmtimeCompiled {
    let key = (setup, fixture);
    if let Some(c) = WORLD.compiled.lock().unwrap().get(&key) {
        return c.clone();
    }
    let bytes =
        crate::fixtures::load_fixture(fixture).unwrap_or_else(|e| panic!("fixture {fixture}: {e}"));
    let compiled = engine(setup)
        .compile(&bytes)
        .unwrap_or_else(|e| panic!("compile fixture {fixture} ({setup:?}): {e}"));
    WORLD
        .compiled
        .lock()
        .unwrap()
        .entry(key)
        .or_insert(compiled)
        .clone()
}

/// The component bytes of `fixture` (loaded and componentized once per
/// process).
pub fn fixture_bytes(fixture: &'static str) -> std::sync::Arc<Vec<u8>> {
    type Cache = HashMap<&'static str, std::sync::Arc<Vec<u8>>>;
    static BYTES: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);
    let mut cache = BYTES.lock().unwrap();
    cache
        .entry(fixture)
        .or_insert_with(|| {
            std::sync::Arc::new(
                crate::fixtures::load_fixture(fixture)
                    .unwrap_or_else(|e| panic!("fixture {fixture}: {e}")),
            )
        })
        .clone()
}

/// The mock backend with the models of the benign fixtures, the virtual
/// clock and no journal (a long fuzz run would fill it).
pub fn mock() -> &'static MockBackend {
    static MOCK: LazyLock<MockBackend> = LazyLock::new(|| {
        let mock = MockBackend::new(&settings()).unwrap_or_else(|e| panic!("the fuzz mock: {e}"));
        register_clock("mock", mock.clock());
        mock
    });
    &MOCK
}

/// `fixture`'s model compiled on [`mock`].
pub fn mock_compiled(fixture: &'static str) -> MockCompiled {
    mock()
        .compile(&ComponentSource::Fixture(fixture.into()), fixture)
        .unwrap_or_else(|e| panic!("the mock model of {fixture}: {e}"))
}

/// The fixtures the mock has models of, but the last, `scribble`: the
/// targets pick a fixture by its index in this list, so a new entry would
/// change what every committed input decodes to. `scribble`'s model is
/// compared with its fixture by `tests/all/differential.rs` instead.
pub const MODELLED: &[&str] = match torvyn_engine::mock::models::NAMES.split_last() {
    Some((_scribble, fuzzed)) => fuzzed,
    None => &[],
};

#[cfg(test)]
mod tests {
    #[test]
    fn every_model_but_scribble_is_fuzzed() {
        let names = torvyn_engine::mock::models::NAMES;
        assert_eq!(names.last(), Some(&"scribble"));
        assert_eq!(super::MODELLED, &names[..names.len() - 1]);
    }
}
