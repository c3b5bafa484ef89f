//! [`SpyEngine`]: a [`WasmEngine`] that watches what a cache feeds
//! `deserialize`, and the `cache_entry` oracle built on it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, LazyLock, Mutex};

use sha2::{Digest, Sha256};
use torvyn_engine::cache::{CacheConfig, CacheTier, CompiledComponentCache, HEADER_LEN};
use torvyn_engine::{ComponentId, EngineError, InstanceOptions, WasmEngine};

use super::generate::EntryCase;

/// A [`WasmEngine`] that delegates to another and watches a cache use it:
/// it remembers the digest of every artifact `serialize` produced, records
/// every `deserialize` input that is not one of them ("foreign" bytes,
/// which a correct cache never passes on), counts compiles and
/// deserializations, and can hold the compile of one component until
/// released (to line up racing threads).
pub struct SpyEngine<E>(Arc<SpyState<E>>);

impl<E> Clone for SpyEngine<E> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

struct SpyState<E> {
    inner: E,
    produced: Mutex<HashSet<[u8; 32]>>,
    foreign: Mutex<Vec<Vec<u8>>>,
    deserialized: Mutex<u64>,
    compiles: Mutex<u64>,
    gate: Mutex<Option<Gate>>,
}

struct Gate {
    bytes: Vec<u8>,
    entered: Sender<()>,
    release: Receiver<()>,
}

/// The two ends of a held compile (see [`SpyEngine::hold_compile_of`]).
pub struct HeldCompile {
    /// Receives once the held compile has started.
    pub entered: Receiver<()>,
    /// Send once to let it go on.
    pub release: Sender<()>,
}

impl<E: WasmEngine> SpyEngine<E> {
    /// A spy over `inner`.
    pub fn new(inner: E) -> Self {
        Self(Arc::new(SpyState {
            inner,
            produced: Mutex::default(),
            foreign: Mutex::default(),
            deserialized: Mutex::default(),
            compiles: Mutex::default(),
            gate: Mutex::default(),
        }))
    }

    /// The engine spied on.
    pub fn inner(&self) -> &E {
        &self.0.inner
    }

    /// The inputs `deserialize` received that `serialize` never produced.
    pub fn foreign(&self) -> Vec<Vec<u8>> {
        self.0.foreign.lock().unwrap().clone()
    }

    /// How many times `deserialize` ran.
    pub fn deserialized(&self) -> u64 {
        *self.0.deserialized.lock().unwrap()
    }

    /// How many compiles ran.
    pub fn compiles(&self) -> u64 {
        *self.0.compiles.lock().unwrap()
    }

    /// Makes the next compile of exactly `bytes` wait: it signals
    /// `entered` when it starts and goes on when `release` is sent.
    pub fn hold_compile_of(&self, bytes: &[u8]) -> HeldCompile {
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel();
        *self.0.gate.lock().unwrap() = Some(Gate {
            bytes: bytes.to_vec(),
            entered: entered_tx,
            release: release_rx,
        });
        HeldCompile { entered, release }
    }
}

impl<E: WasmEngine> WasmEngine for SpyEngine<E> {
    type Compiled = E::Compiled;
    type Instance = E::Instance;

    fn compile(&self, bytes: &[u8]) -> Result<E::Compiled, EngineError> {
        *self.0.compiles.lock().unwrap() += 1;
        let gate = {
            let mut gate = self.0.gate.lock().unwrap();
            if gate.as_ref().is_some_and(|g| g.bytes == bytes) {
                gate.take()
            } else {
                None
            }
        };
        if let Some(gate) = gate {
            let _ = gate.entered.send(());
            let _ = gate.release.recv();
        }
        self.0.inner.compile(bytes)
    }

    fn compile_wat(&self, text: &str) -> Result<E::Compiled, EngineError> {
        *self.0.compiles.lock().unwrap() += 1;
        self.0.inner.compile_wat(text)
    }

    fn serialize(&self, compiled: &E::Compiled) -> Result<Vec<u8>, EngineError> {
        let artifact = self.0.inner.serialize(compiled)?;
        self.0
            .produced
            .lock()
            .unwrap()
            .insert(Sha256::digest(&artifact).into());
        Ok(artifact)
    }

    unsafe fn deserialize(&self, bytes: &[u8]) -> Result<E::Compiled, EngineError> {
        *self.0.deserialized.lock().unwrap() += 1;
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if !self.0.produced.lock().unwrap().contains(&digest) {
            self.0.foreign.lock().unwrap().push(bytes.to_vec());
        }
        // SAFETY: the caller's obligation, passed on; the spy records any
        // input `serialize` did not produce, which fails the caller's test.
        unsafe { self.0.inner.deserialize(bytes) }
    }

    fn instantiate_with(
        &self,
        compiled: &E::Compiled,
        id: ComponentId,
        options: &InstanceOptions,
    ) -> Result<E::Instance, EngineError> {
        self.0.inner.instantiate_with(compiled, id, options)
    }

    fn set_fuel(&self, instance: &mut E::Instance, fuel: u64) -> Result<(), EngineError> {
        self.0.inner.set_fuel(instance, fuel)
    }

    fn fuel_remaining(&self, instance: &E::Instance) -> Option<u64> {
        self.0.inner.fuel_remaining(instance)
    }

    fn memory_usage(&self, instance: &E::Instance) -> u64 {
        self.0.inner.memory_usage(instance)
    }

    fn fingerprint(&self) -> [u8; 32] {
        self.0.inner.fingerprint()
    }

    fn incremental_stats(&self) -> Option<torvyn_engine::IncrementalStats> {
        self.0.inner.incremental_stats()
    }
}

/// A disk-only cache the `cache_entry` target writes entries into, with
/// the valid entry of one component.
struct EntryBench<E: WasmEngine> {
    // Kept for its lifetime: the directory goes when the process ends.
    _dir: tempfile::TempDir,
    spy: SpyEngine<E>,
    cache: CompiledComponentCache<SpyEngine<E>>,
    component: Vec<u8>,
    path: PathBuf,
    valid: Vec<u8>,
}

impl<E: WasmEngine> EntryBench<E> {
    fn new(engine: E, component: Vec<u8>) -> Self {
        // In memory where the system has a tmpfs (`/dev/shm`): the cache
        // writes every recompiled entry through a temporary file, fsync,
        // rename and directory fsync, the same code on any file system,
        // and a disk's fsync would cost more than the rest of the case.
        let shm = std::path::Path::new("/dev/shm");
        let mut builder = tempfile::Builder::new();
        builder.prefix("torvyn-fuzz-cache-");
        let dir = if shm.is_dir() {
            builder.tempdir_in(shm).or_else(|_| builder.tempdir())
        } else {
            builder.tempdir()
        }
        .expect("a temporary directory");
        let spy = SpyEngine::new(engine);
        let cache = CompiledComponentCache::new(
            spy.clone(),
            CacheConfig {
                max_memory_entries: 0,
                ..CacheConfig::with_disk(dir.path())
            },
        )
        .expect("a disk cache");
        let key = cache.get_or_compile(&component).expect("compiles").key;
        let path = cache.entry_path(&key).expect("a disk tier");
        let valid = std::fs::read(&path).expect("the entry was written");
        Self {
            _dir: dir,
            spy,
            cache,
            component,
            path,
            valid,
        }
    }

    /// The oracle, for one entry.
    fn check(&self, case: &EntryCase) {
        let bytes = case.bytes(&self.valid, HEADER_LEN);
        std::fs::write(&self.path, &bytes).expect("write the entry");
        let before = self.cache.stats();
        let out = self
            .cache
            .get_or_compile(&self.component)
            .unwrap_or_else(|e| panic!("a bad entry must fall back to compiling: {e}"));
        let after = self.cache.stats();
        super::observe(|| {
            format!(
                "entry of {} bytes: {:?}; rejected +{}, compiles +{}, disk hits +{}, misses +{}",
                bytes.len(),
                out.tier,
                after.rejected.total() - before.rejected.total(),
                after.compiles - before.compiles,
                after.disk_hits - before.disk_hits,
                after.misses - before.misses,
            )
        });
        let foreign = self.spy.foreign();
        assert!(
            foreign.is_empty(),
            "{} unverified artifact(s) reached deserialize; entry case {case:?}",
            foreign.len()
        );
        if bytes == self.valid {
            assert_eq!(out.tier, CacheTier::Disk, "the valid entry loads from disk");
        } else {
            assert_eq!(
                out.tier,
                CacheTier::Compiled,
                "a damaged entry is recompiled: {case:?}"
            );
            assert_eq!(
                after.rejected.total(),
                before.rejected.total() + 1,
                "the rejection is counted: {case:?}"
            );
        }
        assert_eq!(
            self.cache
                .get_or_compile(&self.component)
                .expect("compiles")
                .tier,
            CacheTier::Disk,
            "the entry is valid again after {case:?}"
        );
    }
}

/// Which engine's cache an entry goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryEngine {
    /// The mock: its artifacts are small and a recompile is free, so the
    /// fuzzer spends its time in the cache's checks.
    Mock,
    /// Wasmtime (Winch): real artifacts, a real compile per rejection.
    Wasmtime,
}

/// The `cache_entry` oracle: writes the case's bytes as the entry, looks
/// the component up, and checks that nothing foreign reached
/// `deserialize`, that only the valid entry loads from disk, that anything
/// else is counted as a rejection and recompiled, and that the entry is
/// valid afterwards.
pub fn check_entry(engine: EntryEngine, case: &EntryCase) {
    type Bench<E> = LazyLock<Mutex<EntryBench<E>>>;
    static MOCK: Bench<torvyn_engine::mock::MockEngine> = LazyLock::new(|| {
        let clock = torvyn_engine::Clock::virtual_time(Default::default());
        super::world::register_clock("cache-mock", &clock);
        let engine = torvyn_engine::mock::MockEngine::with_models(Default::default(), clock)
            .expect("the default mock configuration is valid");
        let component = torvyn_engine::mock::MockEngine::component_bytes("passthrough");
        Mutex::new(EntryBench::new(engine, component))
    });
    static WASMTIME: Bench<torvyn_engine::wasmtime::WasmtimeEngine> = LazyLock::new(|| {
        let engine = super::world::engine(super::world::Setup::Winch).clone();
        let component = crate::fixtures::load_fixture("passthrough").expect("fixture");
        Mutex::new(EntryBench::new(engine, component))
    });
    match engine {
        EntryEngine::Mock => MOCK.lock().unwrap_or_else(|p| p.into_inner()).check(case),
        EntryEngine::Wasmtime => WASMTIME
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .check(case),
    }
}
