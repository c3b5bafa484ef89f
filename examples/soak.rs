//! Soak: many 1 KiB elements through one `uppercase` instance, watching
//! resident memory.
//!
//! ```sh
//! cargo run --example soak -- --elements 1000000 [--winch]
//! ```
//!
//! Prints the resident set size (`/proc/self/statm`, Linux) after the first
//! 10% of the elements and at the end, the growth between the two, and the
//! throughput. Exits with status 1 if the growth is 10% or more, or if any
//! element comes back wrong. The test suite runs a 50 000-element version
//! (`tests/all/load.rs`).

use std::process::ExitCode;
use std::time::Instant;

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{
    Bytes, CompilationStrategy, ComponentId, ComponentInvoker, ProcessResult, StreamElement,
    WasmEngine,
};

const USAGE: &str = "usage: soak [--elements N] [--winch]";

/// Resident memory of this process, in bytes.
fn rss_bytes() -> u64 {
    torvyn_harness::sim::resident_bytes().unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> ExitCode {
    let mut elements: u64 = 1_000_000;
    let mut strategy = CompilationStrategy::Cranelift;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--elements" => match args.next().and_then(|n| n.replace('_', "").parse().ok()) {
                Some(n) if n >= 10 => elements = n,
                _ => {
                    eprintln!("--elements needs a number of at least 10\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
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
    let bytes = match torvyn_harness::fixtures::load_fixture("uppercase") {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let instance = engine
        .compile(&bytes)
        .and_then(|c| engine.instantiate(&c, ComponentId::new("uppercase")));
    let mut upper = match instance {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };

    let payload = Bytes::from(
        (0..1024usize)
            .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36])
            .collect::<Vec<u8>>(),
    );
    let expected = payload.to_ascii_uppercase();
    println!(
        "soak: {elements} elements of {} bytes through `uppercase` ({}), one instance",
        payload.len(),
        strategy.name()
    );
    let started = Instant::now();
    let mut rss_10 = 0;
    let mut fuel: u64 = 0;
    for n in 0..elements {
        if n > 0 && n % (elements / 10) == 0 {
            let rss = rss_bytes();
            if n == elements / 10 {
                rss_10 = rss;
            }
            println!(
                "  {:>3}%  {n:>9} elements  rss {:8.2} MiB  {:>8.0} elements/s",
                n * 100 / elements,
                mib(rss),
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
        let call = upper.process_sync(StreamElement::new(n, payload.clone(), "text/plain"));
        fuel += call.metrics.fuel_consumed;
        match call.outcome {
            Ok(ProcessResult::Emit(out)) if out.payload[..] == expected[..] => {}
            other => {
                eprintln!("element {n} came back wrong: {other:?}");
                return ExitCode::FAILURE;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let rss_end = rss_bytes();
    let growth = (rss_end as f64 - rss_10 as f64) * 100.0 / rss_10 as f64;
    println!("rss after 10%:   {:.2} MiB", mib(rss_10));
    println!("rss at the end:  {:.2} MiB", mib(rss_end));
    println!("growth:          {growth:.2}%");
    println!(
        "throughput:      {:.0} elements/s ({secs:.1} s, {:.0} fuel per element)",
        elements as f64 / secs,
        fuel as f64 / elements as f64
    );
    println!("live resources:  {}", upper.live_resources());
    if growth >= 10.0 || upper.live_resources() != 0 {
        eprintln!("FAIL: resident memory grew 10% or more, or resources leaked");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
