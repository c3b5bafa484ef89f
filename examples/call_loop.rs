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
//! 1 KiB elements through `uppercase`. `hello`: 64-byte elements through
//! `wasi-hello`, a guest that prints each payload (`blocking-write-and-flush`
//! on stdout) and reads the wall clock and random bytes: the cost of the
//! WASI calls a real toolchain's guest makes.
//!
//! `baseline-process`, `baseline-upper` and `baseline-pull` run the same
//! calls on the minimal `bindgen!` host (`torvyn_harness::bench::Baseline`,
//! the denominator of `torvyn-sim bench`), for an instruction-count ratio:
//!
//! ```sh
//! valgrind --tool=callgrind --toggle-collect='*BaselineInstance::pull*' \
//!   target/release/examples/call_loop baseline-pull 2000
//! ```
//!
//! A third argument, `plain`, `memory` or `file`, runs `process` (`kib`:
//! 1 KiB through `passthrough`; `upper`) through the async
//! `ComponentInvoker::process` that `torvyn_engine::record::Recorder`
//! wraps: bare, or recorded (payloads stored) to memory or to a temporary
//! file, both rotating at 64 MiB as `benches/record.rs` does. The
//! recorder's writer is a thread of its own, so count every thread
//! (`--separate-threads=yes`, no toggle) at two call counts and divide the
//! difference: the calling thread's and the writer's instructions per
//! call, whatever else the machine is doing (`benches/RESULTS.md`).
//!
//! ```sh
//! valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=cg.%p \
//!   target/release/examples/call_loop upper 4000 memory
//! ```

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, ComponentInvoker, StreamElement, WasmEngine};
use torvyn_harness::backend::block_on;
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
        "kib" => ("passthrough", 1024),
        "hello" => ("wasi-hello", 64),
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
    if let Some(mode) = args.next() {
        return recorded(inst, &payload, &call, n, &mode);
    }
    match call.as_str() {
        "pull" => {
            inst.init_sync("{\"count\": 0}").outcome?;
            for _ in 0..n {
                std::hint::black_box(inst.pull_sync().outcome?);
            }
        }
        "process" | "upper" | "kib" | "hello" => {
            for seq in 0..n {
                let el = StreamElement::new(seq, payload.clone(), "text/plain");
                std::hint::black_box(inst.process_sync(el).outcome?);
            }
        }
        other => {
            return Err(format!(
                "unknown call `{other}`: use process, upper, kib, hello or pull, or baseline-*"
            )
            .into());
        }
    }
    println!("{n} {call} calls");
    Ok(())
}

/// `n` `process` calls through the async path, bare or recorded.
fn recorded(
    inst: impl ComponentInvoker + Send,
    payload: &torvyn_engine::Bytes,
    call: &str,
    n: u64,
    mode: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    use torvyn_engine::record::{MemoryRecording, RecordOptions, Recorder};
    async fn drive(
        inv: &mut (impl ComponentInvoker + Send),
        payload: &torvyn_engine::Bytes,
        n: u64,
    ) -> Result<(), Box<dyn std::error::Error>> {
        for seq in 0..n {
            let el = StreamElement::new(seq, payload.clone(), "text/plain");
            std::hint::black_box(inv.process(el).await.outcome?);
        }
        Ok(())
    }
    let options = RecordOptions {
        max_bytes: Some(64 << 20),
        keep_rotated: 1,
        ..RecordOptions::default()
    };
    let dir = std::env::temp_dir().join(format!("call_loop-{}", std::process::id()));
    match mode {
        "plain" => {
            let mut inst = inst;
            block_on(drive(&mut inst, payload, n))?;
        }
        "memory" => {
            let memory = MemoryRecording::new();
            let mut rec = Recorder::to_memory(inst, &memory, options)?;
            block_on(drive(&mut rec, payload, n))?;
            let stats = rec.finish().1?;
            println!("{} calls recorded, {} bytes", stats.calls, stats.bytes);
        }
        "file" => {
            std::fs::create_dir_all(&dir)?;
            let mut rec = Recorder::to_file(inst, dir.join("calls.jsonl"), options)?;
            block_on(drive(&mut rec, payload, n))?;
            let stats = rec.finish().1;
            std::fs::remove_dir_all(&dir)?;
            let stats = stats?;
            println!("{} calls recorded, {} bytes", stats.calls, stats.bytes);
        }
        other => {
            return Err(format!("unknown mode `{other}`: use plain, memory or file").into());
        }
    }
    println!("{n} {call} calls ({mode})");
    Ok(())
}
