//! A loop of one kind of call on a default Wasmtime engine, for counting
//! the engine's instructions per call with callgrind (the figures in
//! `benches/RESULTS.md`):
//!
//! ```sh
//! cargo build --release --example call_loop
//! valgrind --tool=callgrind --toggle-collect='*WasmtimeInvoker::process_sync*' \
//!   target/release/examples/call_loop process 2000
//! valgrind --tool=callgrind --toggle-collect='*WasmtimeInvoker::pull_sync*' \
//!   target/release/examples/call_loop pull 2000
//! ```
//!
//! `process`: 64-byte elements through `passthrough`; `pull`: an exhausted
//! `counter-source` (`init("{\"count\": 0}")`), the engine's fixed cost
//! per call. Divide the collected instructions by the count. `upper`:
//! 1 KiB elements through `uppercase`.
//!
//! `baseline-process`, `baseline-upper` and `baseline-pull` run the same
//! calls on the minimal `bindgen!` host (`torvyn_harness::bench::Baseline`,
//! the denominator of `torvyn-sim bench`), for an instruction-count ratio:
//!
//! ```sh
//! valgrind --tool=callgrind --toggle-collect='*BaselineInstance::pull*' \
//!   target/release/examples/call_loop baseline-pull 2000
//! ```

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, StreamElement, WasmEngine};
use torvyn_harness::bench::Baseline;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let call = args.next().unwrap_or_else(|| "process".into());
    let n: u64 = args.next().map_or(Ok(2000), |s| s.parse())?;
    let config = WasmtimeEngineConfig::default();
    let engine = WasmtimeEngine::new(config.clone())?;
    let (fixture, bytes) = match call.trim_start_matches("baseline-") {
        "pull" => ("counter-source", 0),
        "upper" => ("uppercase", 1024),
        _ => ("passthrough", 64),
    };
    let wasm = torvyn_harness::fixtures::load_fixture(fixture)?;
    if call.starts_with("baseline-") {
        let mut base = Baseline::new(&config, &wasm, fixture)?.instantiate()?;
        let payload = vec![b'x'; bytes];
        if fixture == "counter-source" {
            base.init("{\"count\": 0}")?;
            for _ in 0..n {
                std::hint::black_box(base.pull()?);
            }
        } else {
            for seq in 0..n {
                std::hint::black_box(base.process(seq, &payload, "text/plain")?);
            }
        }
        println!("{n} {call} calls");
        return Ok(());
    }
    let compiled = engine.compile(&wasm)?;
    let mut inst = engine.instantiate(&compiled, ComponentId::new(fixture))?;
    let payload = torvyn_engine::Bytes::from(vec![b'x'; bytes]);
    match call.as_str() {
        "pull" => {
            inst.init_sync("{\"count\": 0}").outcome?;
            for _ in 0..n {
                std::hint::black_box(inst.pull_sync().outcome?);
            }
        }
        "process" | "upper" => {
            for seq in 0..n {
                let el = StreamElement::new(seq, payload.clone(), "text/plain");
                std::hint::black_box(inst.process_sync(el).outcome?);
            }
        }
        other => {
            return Err(format!(
                "unknown call `{other}`: use process, upper or pull, or baseline-*"
            )
            .into());
        }
    }
    println!("{n} {call} calls");
    Ok(())
}
