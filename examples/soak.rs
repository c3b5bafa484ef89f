//! Soak: many elements through the engine, watching resident memory.
//!
//! ```sh
//! cargo run --release --example soak -- --elements 1000000 [--winch]   # one uppercase instance
//! cargo run --release --example soak -- --pipeline --elements 1000000  # counter-source → uppercase → sink
//! cargo run --release --example soak -- --storm 10000                  # traps and fuel exhaustions
//! ```
//!
//! - The default: 1 KiB elements through one `uppercase` instance.
//! - `--pipeline`: `counter-source` pulled, each element through
//!   `uppercase`, then pushed to `sink` (which asks for a pause every 64
//!   elements: the source is told `pause`, then `ready`), three instances.
//! - `--storm N`: N faults in a row, alternating a trap (`trap`) and a fuel
//!   exhaustion (`spin` with 10 000 fuel), each on a fresh instance of the
//!   same compiled component; then `uppercase` must still work.
//!
//! Prints the resident set size (`/proc/self/statm`, Linux) after the first
//! 10% of the work and at the end, the growth between the two, and the
//! throughput. Exits with status 1 if the growth is 10% or more, if any
//! element comes back wrong or a fault is not the expected one, or if a
//! host resource outlives a call. The test suite runs smaller versions
//! (`tests/all/load.rs`, and `.ci/run` runs this example with `--elements
//! 20000`); `benches/RESULTS.md` records full runs.

use std::process::ExitCode;
use std::time::Instant;

use torvyn_engine::wasmtime::WasmtimeInvoker;
use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    BackpressureSignal, Bytes, CompilationStrategy, ComponentId, ComponentInvoker, FaultKind,
    ProcessResult, StreamElement, TrapCode, WasmEngine,
};

const USAGE: &str = "usage: soak [--elements N | --pipeline --elements N | --storm N] [--winch]";

/// Resident memory of this process, in bytes.
fn rss_bytes() -> u64 {
    torvyn_harness::sim::resident_bytes().unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

enum Mode {
    Process,
    Pipeline,
    Storm,
}

fn main() -> ExitCode {
    let mut count: u64 = 1_000_000;
    let mut mode = Mode::Process;
    let mut strategy = CompilationStrategy::Cranelift;
    let mut args = std::env::args().skip(1);
    let number = |arg: Option<String>| arg.and_then(|n| n.replace('_', "").parse::<u64>().ok());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--elements" | "--storm" => {
                if arg == "--storm" {
                    mode = Mode::Storm;
                }
                match number(args.next()) {
                    Some(n) if n >= 10 => count = n,
                    _ => {
                        eprintln!("{arg} needs a number of at least 10\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--pipeline" => mode = Mode::Pipeline,
            "--winch" => strategy = CompilationStrategy::Winch,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument `{other}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if rss_bytes() == 0 {
        eprintln!("cannot read /proc/self/statm: this example needs Linux");
        return ExitCode::from(2);
    }
    let engine = match WasmtimeEngine::new(WasmtimeEngineConfig::with_strategy(strategy)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match mode {
        Mode::Process => process(&engine, strategy, count),
        Mode::Pipeline => pipeline(&engine, strategy, count),
        Mode::Storm => storm(&engine, strategy, count),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}

fn instance(engine: &WasmtimeEngine, fixture: &str) -> Result<WasmtimeInvoker, String> {
    let bytes = torvyn_harness::fixtures::load_fixture(fixture).map_err(|e| e.to_string())?;
    engine
        .compile(&bytes)
        .and_then(|c| engine.instantiate(&c, ComponentId::new(fixture)))
        .map_err(|e| e.to_string())
}

/// Measures resident memory at each tenth of `total` steps.
struct Meter {
    total: u64,
    started: Instant,
    rss_10: u64,
    what: &'static str,
}

impl Meter {
    fn new(total: u64, what: &'static str) -> Self {
        Self {
            total,
            started: Instant::now(),
            rss_10: 0,
            what,
        }
    }

    fn step(&mut self, n: u64) {
        if n > 0 && n.is_multiple_of(self.total / 10) {
            let rss = rss_bytes();
            if n == self.total / 10 {
                self.rss_10 = rss;
            }
            println!(
                "  {:>3}%  {n:>9} {}  rss {:8.2} MiB  {:>8.0} {}/s",
                n * 100 / self.total,
                self.what,
                mib(rss),
                n as f64 / self.started.elapsed().as_secs_f64(),
                self.what
            );
        }
    }

    /// Prints the figures; an error when memory grew 10% or more.
    fn finish(&self, per_step: &str) -> Result<(), String> {
        let secs = self.started.elapsed().as_secs_f64();
        let rss_end = rss_bytes();
        let growth = (rss_end as f64 - self.rss_10 as f64) * 100.0 / self.rss_10 as f64;
        println!("rss after 10%:   {:.2} MiB", mib(self.rss_10));
        println!("rss at the end:  {:.2} MiB", mib(rss_end));
        println!("growth:          {growth:.2}%");
        println!(
            "throughput:      {:.0} {}/s ({secs:.1} s{per_step})",
            self.total as f64 / secs,
            self.what
        );
        if growth >= 10.0 {
            return Err(format!("resident memory grew {growth:.2}% after warm-up"));
        }
        Ok(())
    }
}

fn payload() -> Bytes {
    Bytes::from(
        (0..1024usize)
            .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36])
            .collect::<Vec<u8>>(),
    )
}

fn process(engine: &WasmtimeEngine, strategy: CompilationStrategy, n: u64) -> Result<(), String> {
    let mut upper = instance(engine, "uppercase")?;
    let payload = payload();
    let expected = payload.to_ascii_uppercase();
    println!(
        "soak: {n} elements of {} bytes through `uppercase` ({}), one instance",
        payload.len(),
        strategy.name()
    );
    let mut meter = Meter::new(n, "elements");
    let mut fuel: u64 = 0;
    for i in 0..n {
        meter.step(i);
        let call = upper.process_sync(StreamElement::new(i, payload.clone(), "text/plain"));
        fuel += call.metrics.fuel_consumed;
        match call.outcome {
            Ok(ProcessResult::Emit(out)) if out.payload[..] == expected[..] => {}
            other => return Err(format!("element {i} came back wrong: {other:?}")),
        }
    }
    meter.finish(&format!(", {:.0} fuel per element", fuel as f64 / n as f64))?;
    println!("live resources:  {}", upper.live_resources());
    if upper.live_resources() != 0 {
        return Err("host resources leaked".into());
    }
    Ok(())
}

fn pipeline(engine: &WasmtimeEngine, strategy: CompilationStrategy, n: u64) -> Result<(), String> {
    let mut source = instance(engine, "counter-source")?;
    let mut upper = instance(engine, "uppercase")?;
    let mut sink = instance(engine, "sink")?;
    ok(
        source.init_sync(&format!("{{\"count\": {n}}}")),
        "source init",
    )?;
    ok(sink.init_sync("{\"count\": 64}"), "sink init")?;
    println!(
        "soak: {n} elements through counter-source → uppercase → sink ({}), three instances",
        strategy.name()
    );
    let mut meter = Meter::new(n, "elements");
    let mut fuel: u64 = 0;
    let mut pauses = 0u64;
    for i in 0..n {
        meter.step(i);
        let pulled = source.pull_sync();
        fuel += pulled.metrics.fuel_consumed;
        let out = match pulled.outcome {
            Ok(Some(out)) => out,
            other => return Err(format!("pull {i}: {other:?}")),
        };
        let expected = i.to_string();
        if out.payload[..] != *expected.as_bytes() {
            return Err(format!("pull {i} gave {:?}", out.payload));
        }
        let processed = upper.process_sync(StreamElement::new(i, out.payload, "text/plain"));
        fuel += processed.metrics.fuel_consumed;
        let upper_out = match processed.outcome {
            Ok(ProcessResult::Emit(o)) => o,
            other => return Err(format!("process {i}: {other:?}")),
        };
        let pushed = sink.push_sync(StreamElement::new(i, upper_out.payload, "text/plain"));
        fuel += pushed.metrics.fuel_consumed;
        match pushed.outcome {
            Ok(BackpressureSignal::Ready) => {}
            Ok(BackpressureSignal::Pause) => {
                pauses += 1;
                ok(
                    source.notify_backpressure_sync(BackpressureSignal::Pause),
                    "pause",
                )?;
                ok(
                    source.notify_backpressure_sync(BackpressureSignal::Ready),
                    "ready",
                )?;
            }
            Err(e) => return Err(format!("push {i}: {e}")),
        }
        let live = source.live_resources() + upper.live_resources() + sink.live_resources();
        if live != 0 {
            return Err(format!("{live} host resources live after element {i}"));
        }
    }
    if !matches!(source.pull_sync().outcome, Ok(None)) {
        return Err("the source did not end after its count".into());
    }
    ok(sink.complete_sync(), "complete")?;
    meter.finish(&format!(
        ", {:.0} fuel per element, {pauses} pauses",
        fuel as f64 / n as f64
    ))?;
    println!("live resources:  0");
    Ok(())
}

fn storm(engine: &WasmtimeEngine, strategy: CompilationStrategy, n: u64) -> Result<(), String> {
    let load = |f: &str| {
        torvyn_harness::fixtures::load_fixture(f)
            .map_err(|e| e.to_string())
            .and_then(|b| engine.compile(&b).map_err(|e| e.to_string()))
    };
    let (trap, spin) = (load("trap")?, load("spin")?);
    println!(
        "storm: {n} faults ({}), alternating a trap and a fuel exhaustion, each on a fresh \
         instance",
        strategy.name()
    );
    let mut meter = Meter::new(n, "faults");
    for i in 0..n {
        meter.step(i);
        let (compiled, name) = if i % 2 == 0 {
            (&trap, "trap")
        } else {
            (&spin, "spin")
        };
        let mut inst = engine
            .instantiate(compiled, ComponentId::new(name))
            .map_err(|e| format!("fault {i}: {e}"))?;
        if i % 2 == 1 {
            engine
                .set_fuel(&mut inst, 10_000)
                .map_err(|e| e.to_string())?;
        }
        let call = inst.process_sync(StreamElement::new(i, "x", "text/plain"));
        match (i % 2, call.fault().map(|f| &f.kind)) {
            (
                0,
                Some(FaultKind::Trap {
                    code: TrapCode::Unreachable,
                    ..
                }),
            )
            | (1, Some(FaultKind::FuelExhausted { budget: 10_000 })) => {}
            (_, other) => return Err(format!("fault {i} ({name}): {other:?}")),
        }
        if inst.live_resources() != 0 {
            return Err(format!("fault {i}: host resources leaked"));
        }
    }
    meter.finish("")?;
    let mut upper = instance(engine, "uppercase")?;
    match upper
        .process_sync(StreamElement::new(0, "after", "text/plain"))
        .outcome
    {
        Ok(ProcessResult::Emit(out)) if &out.payload[..] == b"AFTER" => {
            println!("after the storm: uppercase answers AFTER");
            Ok(())
        }
        other => Err(format!("uppercase after the storm: {other:?}")),
    }
}

fn ok<T: std::fmt::Debug>(call: torvyn_engine::Invocation<T>, what: &str) -> Result<T, String> {
    call.outcome.map_err(|e| format!("{what}: {e}"))
}
