//! Runs a component from a `.wat` file over a few elements and prints what
//! each call returned and cost.
//!
//! ```sh
//! cargo run --example run_wat -- fixtures/components/uppercase.wat hello world
//! ```
//!
//! The file may be a component in text format, or a core module following
//! the canonical ABI (componentized here with the harness's loader).

use torvyn_engine::wasmtime::{WasmtimeEngine, WasmtimeEngineConfig};
use torvyn_engine::{ComponentId, ComponentInvoker, ProcessResult, StreamElement, WasmEngine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "fixtures/components/uppercase.wat".into());
    let words: Vec<String> = args.collect();
    let words = if words.is_empty() {
        vec!["hello".to_owned(), "world".to_owned()]
    } else {
        words
    };

    let text = std::fs::read_to_string(&path)?;
    let bytes = torvyn_harness::fixtures::component_from_wat(&text, &path)?;
    let engine = WasmtimeEngine::new(WasmtimeEngineConfig::default())?;
    let compiled = engine.compile_named(&bytes, &path)?;
    let mut instance = engine.instantiate(&compiled, ComponentId::new(&path))?;
    println!("{path}: roles {}", instance.roles());

    for (seq, word) in words.into_iter().enumerate() {
        let call =
            instance.process_sync(StreamElement::new(seq as u64, word.clone(), "text/plain"));
        let m = call.metrics;
        let shown = match call.outcome {
            Ok(ProcessResult::Emit(out)) => {
                format!("emit {:?}", String::from_utf8_lossy(&out.payload))
            }
            Ok(ProcessResult::Drop) => "drop".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        println!(
            "{word:?} -> {shown} (fuel {}, {:?}, {} B in, {} B out)",
            m.fuel_consumed, m.duration, m.bytes_into_guest, m.bytes_out_of_guest
        );
    }
    assert_eq!(instance.live_resources(), 0);
    Ok(())
}
