//! Uses the compiled-component cache with a directory: the first run
//! compiles, the next (or another process) loads verified compiled code.
//!
//! ```sh
//! cargo run --example cache_dir -- /tmp/torvyn-cache
//! ```

use torvyn_engine::cache::{CacheConfig, CompiledComponentCache};
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, ProcessResult, StreamElement, WasmEngine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let given = std::env::args().nth(1).map(std::path::PathBuf::from);
    let dir = given.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("torvyn-cache-example-{}", std::process::id()))
    });
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
    let bytes = torvyn_harness::fixtures::load_fixture("uppercase")?;

    for round in 1..=2 {
        // A new cache each round: the second finds the entry on disk.
        let cache = CompiledComponentCache::new(engine.clone(), CacheConfig::with_disk(&dir))?;
        let outcome = cache.get_or_compile(&bytes)?;
        println!("round {round}: {:?} ({})", outcome.tier, cache.stats());
        let mut upper = engine.instantiate(&outcome.compiled, ComponentId::new("upper"))?;
        match upper
            .process_sync(StreamElement::new(0, "cached", "text/plain"))
            .outcome?
        {
            ProcessResult::Emit(out) => assert_eq!(&out.payload[..], b"CACHED"),
            ProcessResult::Drop => unreachable!("uppercase emits"),
        }
    }
    if given.is_none() {
        std::fs::remove_dir_all(&dir)?;
    } else {
        println!("entries in {}", dir.display());
    }
    Ok(())
}
