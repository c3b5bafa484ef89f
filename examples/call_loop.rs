//! A loop of one kind of call on a default Wasmtime engine, for counting
//! the engine's instructions per call with callgrind (the figures in
//! README's Benchmarks section):
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
//! per call. Divide the collected instructions by the count.

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, StreamElement, WasmEngine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let call = args.next().unwrap_or_else(|| "process".into());
    let n: u64 = args.next().map_or(Ok(2000), |s| s.parse())?;
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
    let fixture = if call == "pull" {
        "counter-source"
    } else {
        "passthrough"
    };
    let compiled = engine.compile(&torvyn_harness::fixtures::load_fixture(fixture)?)?;
    let mut inst = engine.instantiate(&compiled, ComponentId::new(fixture))?;
    let payload = torvyn_engine::Bytes::from(vec![b'x'; 64]);
    match call.as_str() {
        "pull" => {
            inst.init_sync("{\"count\": 0}").outcome?;
            for _ in 0..n {
                std::hint::black_box(inst.pull_sync().outcome?);
            }
        }
        "process" => {
            for seq in 0..n {
                let el = StreamElement::new(seq, payload.clone(), "text/plain");
                std::hint::black_box(inst.process_sync(el).outcome?);
            }
        }
        other => return Err(format!("unknown call `{other}`: use process or pull").into()),
    }
    println!("{n} {call} calls");
    Ok(())
}
